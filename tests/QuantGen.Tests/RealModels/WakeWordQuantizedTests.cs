using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;
using static QuantGen.Tests.Data.WakeWordClips;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// openWakeWord's embedding model and "alexa" head, quantized as the WakeWord sample's build quantizes them and run as
/// the generated int8 classes, against ONNX Runtime's float models on the same mel features: the wake-word decision
/// (score &gt; 0.5) per window and per clip, and the score error.
/// </summary>
public sealed class WakeWordQuantizedTests(ITestOutputHelper output)
{
    private const float Threshold = 0.5f;

    [Fact]
    public void Int8PipelineAgreesWithOnnxRuntimeOnTheWakeWordDecision()
    {
        var embeddingPath = RealModelPaths.WakeWord("embedding_model");
        var headPath = RealModelPaths.WakeWord("alexa_v0.1");
        var embeddingArtifact = Quantize(embeddingPath, "embedding_calibration.npy");
        var headArtifact = Quantize(headPath, "head_calibration.npy");
        var (embed, score) = Compile(embeddingArtifact, headArtifact);

        // The generated embedding class is the simulator, bit for bit, on the real model too (the head: below).
        var embeddingSimulator = new IntegerSimulator(embeddingArtifact);
        foreach (var window in Windows(All[3].Mel).Take(2))
            Assert.Equal(embeddingSimulator.Run(new Dictionary<string, float[]> { ["input_1"] = window }).Single().Value, embed(window));

        // Every window of every clip through both pipelines; ONNX Runtime is thread-safe, each thread has its own int8 instance.
        using var embeddingOracle = new OnnxRuntimeOracle(embeddingPath);
        using var headOracle = new OnnxRuntimeOracle(headPath);
        var windows = All.Select(c => Windows(c.Mel).ToArray()).ToArray();
        var jobs = windows.SelectMany((w, c) => w.Select((_, i) => (Clip: c, Index: i))).ToArray();
        var int8Embeddings = windows.Select(w => new float[w.Length][]).ToArray();
        var floatEmbeddings = windows.Select(w => new float[w.Length][]).ToArray();
        Parallel.ForEach(jobs, job =>
        {
            var window = windows[job.Clip][job.Index];
            int8Embeddings[job.Clip][job.Index] = embed(window);
            floatEmbeddings[job.Clip][job.Index] = embeddingOracle.Run("input_1", window, [1, Window, Mels, 1]).Single().Value;
        });
        double embeddingSqnr = Sqnr.Of(floatEmbeddings.SelectMany(c => c).SelectMany(e => e).ToArray(), int8Embeddings.SelectMany(c => c).SelectMany(e => e).ToArray());

        var headSimulator = new IntegerSimulator(headArtifact);
        for (int c = 0; c < 4; c++)
        {
            var features = int8Embeddings[c].Take(History).SelectMany(e => e).ToArray();
            Assert.Equal(headSimulator.Run(new Dictionary<string, float[]> { ["onnx::Flatten_0"] = features }).Single().Value[0], score(features));
        }

        int decisions = 0, agree = 0, clipsAgree = 0, floatWakeWords = 0, floatFalseAlarms = 0;
        double maxError = 0, sumError = 0, headOnlyMaxError = 0;
        var disagreements = new List<string>();
        for (int c = 0; c < All.Count; c++)
        {
            float int8Max = 0, floatMax = 0;
            for (int first = 0; first + History <= windows[c].Length; first++)
            {
                var int8Features = int8Embeddings[c].Skip(first).Take(History).SelectMany(e => e).ToArray();
                var floatFeatures = floatEmbeddings[c].Skip(first).Take(History).SelectMany(e => e).ToArray();
                float q = score(int8Features);
                float f = headOracle.Run("onnx::Flatten_0", floatFeatures, [1, History, WakeWordClips.Dim]).Single().Value[0];
                // The head alone: int8 head on the float embeddings.
                headOnlyMaxError = Math.Max(headOnlyMaxError, Math.Abs(score(floatFeatures) - f));
                decisions++;
                if ((q > Threshold) == (f > Threshold)) agree++;
                else disagreements.Add($"{All[c].Name}[{first}] int8 {q:F3} float {f:F3}");
                maxError = Math.Max(maxError, Math.Abs(q - f));
                sumError += Math.Abs(q - f);
                int8Max = Math.Max(int8Max, q);
                floatMax = Math.Max(floatMax, f);
            }
            bool floatFires = floatMax > Threshold;
            clipsAgree += (int8Max > Threshold) == floatFires ? 1 : 0;
            floatWakeWords += floatFires && All[c].IsWakeWord ? 1 : 0;
            floatFalseAlarms += floatFires && !All[c].IsWakeWord ? 1 : 0;
        }

        double agreement = (double)agree / decisions, meanError = sumError / decisions;
        output.WriteLine($"{All.Count} clips, {decisions} head windows ({jobs.Length} embedding windows)");
        output.WriteLine($"float (ONNX Runtime) fires on {floatWakeWords}/{All.Count(c => c.IsWakeWord)} \"alexa\" clips and {floatFalseAlarms}/{All.Count(c => !c.IsWakeWord)} others");
        output.WriteLine($"int8 vs float decisions (score > {Threshold}): {agree}/{decisions} windows agree ({agreement:P1}), {clipsAgree}/{All.Count} clips agree");
        output.WriteLine($"int8 vs float score: max |Δ| {maxError:F3}, mean |Δ| {meanError:F4}; head alone (int8 head on float embeddings): max |Δ| {headOnlyMaxError:F3}");
        output.WriteLine($"embedding SQNR int8 vs float over all windows: {embeddingSqnr:F1} dB");
        output.WriteLine($"disagreeing windows: {(disagreements.Count == 0 ? "none" : string.Join("; ", disagreements))}");

        // The data must exercise the decision, or agreeing would mean nothing.
        Assert.True(floatWakeWords >= 5 && floatFalseAlarms == 0, $"float fires on {floatWakeWords} wake-word clips and {floatFalseAlarms} others");
        Assert.Equal(All.Count, clipsAgree);
        Assert.True(agreement >= 0.95, $"window decisions agree on {agreement:P1}");
        Assert.True(maxError <= 0.35 && meanError <= 0.03, $"score error max {maxError:F3}, mean {meanError:F4}");
    }

    /// <summary>As the sample's build does: the item's calibration file, default options.</summary>
    private static QuantizedArtifact Quantize(string modelPath, string calibrationFile)
    {
        var model = OnnxModelLoader.Load(modelPath);
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            [model.Graph.Inputs.Single().Name] = Npy.Read(Path.Combine(DataDirectory, calibrationFile)),
        });
        var metadata = new[] { new ArtifactMetadata("source", $"Models/{Path.GetFileName(modelPath)}") };
        return ModelQuantizer.Quantize(model, new QuantizationOptions(), calibration, metadata).Artifact;
    }

    /// <summary>Both generated classes in one in-memory assembly, with thread-local instances behind two delegates.</summary>
    private static (Func<float[], float[]> Embed, Func<float[], float> Score) Compile(QuantizedArtifact embedding, QuantizedArtifact head)
    {
        const string embeddingPath = "/project/obj/quantgen/embedding_model.qgart", headPath = "/project/obj/quantgen/alexa_v0.1.qgart";
        var options = new GeneratorHarness.OptionsProvider(
            new()
            {
                [embeddingPath] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "Embedding" },
                [headPath] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "AlexaHead" },
            },
            new() { ["build_property.RootNamespace"] = "Demo.Models" });
        var driver = GeneratorHarness.Driver(
            [new GeneratorHarness.InMemoryText(embeddingPath, ArtifactText.Write(embedding)), new GeneratorHarness.InMemoryText(headPath, ArtifactText.Write(head))], options);
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe), driver);
        var probe = assembly.GetType("Probe")!;
        return (probe.GetMethod("Embed")!.CreateDelegate<Func<float[], float[]>>(), probe.GetMethod("Score")!.CreateDelegate<Func<float[], float>>());
    }

    private const string Probe = """
        public static class Probe
        {
            [System.ThreadStatic] private static Demo.Models.Embedding? t_embedding;
            [System.ThreadStatic] private static Demo.Models.AlexaHead? t_head;

            public static float[] Embed(float[] window)
            {
                var output = new float[Demo.Models.Embedding.OutputLength];
                (t_embedding ??= new Demo.Models.Embedding()).Run(window, output);
                return output;
            }

            public static float Score(float[] features)
            {
                var output = new float[Demo.Models.AlexaHead.OutputLength];
                (t_head ??= new Demo.Models.AlexaHead()).Run(features, output);
                return output[0];
            }
        }
        """;
}
