namespace QuantGen.Core.Quantization;

/// <summary>
/// One layer's rounding problem for <see cref="AdaRound"/>. Rows o of <see cref="Weights"/> belong to group
/// o / (M / Groups); group g reads its own input rows (<see cref="FloatInputs"/>[g], <see cref="QuantInputs"/>[g]).
/// All groups have the same number of rows R (for depthwise conv: the same output positions).
/// </summary>
/// <param name="Weights">[M, K] float weights (BN folded, equalized); a row is an output channel.</param>
/// <param name="OutputChannels">M.</param>
/// <param name="Groups">1 for Gemm and dense conv, C for depthwise (then M / Groups rows per group, often 1).</param>
/// <param name="Scales">[M] quantization step per output channel (per-tensor: all equal).</param>
/// <param name="Bits">2 to 8; symmetric narrow grid q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1].</param>
/// <param name="Bias">[M] float bias (kept float during optimisation).</param>
/// <param name="FloatInputs">Per group: [R, K] rows of the layer input from the float model (im2col rows for conv).</param>
/// <param name="QuantInputs">Per group: [R, K] the same rows from the already-quantized model (asymmetric reconstruction).</param>
/// <param name="ClampMin">[M] activation lower bound per channel (−∞: none, 0: ReLU).</param>
/// <param name="ClampMax">[M] activation upper bound per channel (+∞: none, 6: ReLU6).</param>
/// <param name="LeakyAlpha">LeakyReLU slope for z &lt; 0 (applied before the clamp), or null.</param>
internal sealed record AdaRoundProblem(
    float[] Weights,
    int OutputChannels,
    int Groups,
    float[] Scales,
    int Bits,
    float[] Bias,
    float[][] FloatInputs,
    float[][] QuantInputs,
    float[] ClampMin,
    float[] ClampMax,
    float? LeakyAlpha)
{
    /// <summary>K, the weights per output channel.</summary>
    public int FanIn => Weights.Length / OutputChannels;

    /// <summary>Checks shapes and values; returns R, the input rows per group.</summary>
    public int Validate()
    {
        int m = OutputChannels;
        if (m <= 0 || Weights.Length == 0 || Weights.Length % m != 0)
            throw new ArgumentException($"Weights ({Weights.Length}) is not a non-empty [M={m}, K] matrix.");
        if (Groups <= 0 || m % Groups != 0)
            throw new ArgumentException($"Groups={Groups} does not divide M={m}.");
        if (Bits is < 2 or > 8)
            throw new ArgumentException($"Bits={Bits} is out of range 2..8.");
        if (Scales.Length != m || Bias.Length != m || ClampMin.Length != m || ClampMax.Length != m)
            throw new ArgumentException("Scales, Bias, ClampMin and ClampMax need one value per output channel.");
        for (int o = 0; o < m; o++)
        {
            if (!(Scales[o] > 0) || !float.IsFinite(Scales[o]))
                throw new ArgumentException($"Scale of channel {o} is {Scales[o]}: scales must be positive and finite.");
            if (!float.IsFinite(Bias[o]) || float.IsNaN(ClampMin[o]) || float.IsNaN(ClampMax[o]) || ClampMin[o] > ClampMax[o])
                throw new ArgumentException($"Bias or clamp bounds of channel {o} are invalid.");
        }
        if (LeakyAlpha is { } alpha && !float.IsFinite(alpha))
            throw new ArgumentException("LeakyAlpha must be finite.");
        foreach (var w in Weights)
            if (!float.IsFinite(w))
                throw new ArgumentException("Weights must be finite.");

        int k = FanIn;
        if (FloatInputs.Length != Groups || QuantInputs.Length != Groups)
            throw new ArgumentException($"FloatInputs and QuantInputs need one [R, K] matrix per group ({Groups}).");
        int rows = FloatInputs[0].Length / k;
        if (rows == 0)
            throw new ArgumentException("The inputs have no rows.");
        for (int g = 0; g < Groups; g++)
            if (FloatInputs[g].Length != rows * k || QuantInputs[g].Length != rows * k)
                throw new ArgumentException($"Inputs of group {g} are not [R={rows}, K={k}] (all groups need the same rows).");
        return rows;
    }
}

/// <summary>
/// AdaRound's optimisation settings (defaults: the paper's, except the batch, see docs/adaround.md).
/// </summary>
/// <param name="Iterations">Adam steps.</param>
/// <param name="BatchRows">Input rows per step, sampled without replacement; all rows when R ≤ BatchRows.</param>
/// <param name="Lambda">Weight of the rounding regulariser (normalised as docs/adaround.md describes).</param>
/// <param name="BetaStart">Regulariser exponent β at the end of the warm-up.</param>
/// <param name="BetaEnd">β at the last iteration (cosine annealing between the two).</param>
/// <param name="WarmUp">Fraction of the iterations with λ = 0 (reconstruction only).</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the row sampling; the result depends only on the problem and the settings.</param>
/// <param name="MaxDegreeOfParallelism">Threads (−1: all cores); does not change the result.</param>
internal sealed record AdaRoundSettings(
    int Iterations = 10000,
    int BatchRows = AdaRoundSettings.DefaultBatchRows,
    float Lambda = 0.01f,
    float BetaStart = 20,
    float BetaEnd = 2,
    float WarmUp = 0.2f,
    float LearningRate = 1e-3f,
    int Seed = 0,
    int MaxDegreeOfParallelism = -1)
{
    /// <summary>Rows per Adam step by default (justified by the measurements in docs/adaround.md).</summary>
    public const int DefaultBatchRows = 1024;

    public void Validate()
    {
        if (Iterations < 0 || BatchRows < 1)
            throw new ArgumentException("Iterations must be ≥ 0 and BatchRows ≥ 1.");
        if (!(Lambda >= 0) || !(BetaStart >= 1) || !(BetaEnd >= 1) || !(WarmUp is >= 0 and <= 1) || !(LearningRate > 0))
            throw new ArgumentException("Lambda ≥ 0, BetaStart and BetaEnd ≥ 1, WarmUp in [0, 1] and LearningRate > 0 are required.");
        if (MaxDegreeOfParallelism is 0 or < -1)
            throw new ArgumentException("MaxDegreeOfParallelism must be −1 or positive.");
    }
}

/// <summary>The outcome of <see cref="AdaRound.Optimize"/>.</summary>
/// <param name="Quantized">[M, K] grid indices; each is floor(W/s) or floor(W/s) + 1, or the clamp bound ±L.</param>
/// <param name="NearestError">Reconstruction MSE of round-to-nearest over all rows and channels.</param>
/// <param name="LearnedError">Reconstruction MSE of <paramref name="Quantized"/> over all rows and channels.</param>
/// <param name="FlippedFromNearest">How many indices differ from round-to-nearest.</param>
/// <param name="Elapsed">Wall time of the whole optimisation (targets, iterations, evaluation).</param>
internal sealed record AdaRoundResult(int[] Quantized, double NearestError, double LearnedError, int FlippedFromNearest, TimeSpan Elapsed)
{
    /// <summary>Of <see cref="Elapsed"/>, the Adam steps (with the one-off copy of the inputs the row sampling reads).</summary>
    public TimeSpan StepsElapsed { get; init; }
}
