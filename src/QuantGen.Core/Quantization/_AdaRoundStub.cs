namespace QuantGen.Core.Quantization;
internal sealed record AdaRoundProblem(float[] Weights, int OutputChannels, int Groups, float[] Scales, int Bits, float[] Bias, float[][] FloatInputs, float[][] QuantInputs, float[] ClampMin, float[] ClampMax, float? LeakyAlpha);
internal sealed record AdaRoundSettings(int Iterations = 10000, int BatchRows = 256, float Lambda = 0.01f, float BetaStart = 20, float BetaEnd = 2, float WarmUp = 0.2f, float LearningRate = 1e-3f, int Seed = 0, int MaxDegreeOfParallelism = -1);
internal sealed record AdaRoundResult(int[] Quantized, double NearestError, double LearnedError, int FlippedFromNearest, TimeSpan Elapsed);
internal static class AdaRound { public static AdaRoundResult Optimize(AdaRoundProblem p, AdaRoundSettings s) => throw new NotImplementedException(); }
