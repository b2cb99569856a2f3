extern alias generator;
using generator::QuantGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using GeneratorArtifactText = generator::QuantGen.Core.Artifact.ArtifactText;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The planner's decisions, read from the plan rather than from printed text: plans are values (equal for equal
/// artifacts, different when a constant changes), per-channel upper bounds (clampHigh) go to the requantizing kernel
/// for 8- and 16-bit activations alike, NHWC and Conv → MaxPool fusion exist for u8 models only, and the incremental
/// pipeline stops at the plan when an edit plans the same class.
/// </summary>
public sealed class ModelPlannerTests
{
    private static readonly EmitPlan Declaration = new("Demo.Models", "Model", "public sealed partial class");

    /// <summary>
    /// Quantize → 1×1 Conv 2 → 3 channels (with clampHigh) → flatten → FullyConnected 48 → 5 (without) → Dequantize,
    /// on u8 or i16 tensors. Weights and constants are arbitrary: only the plan is looked at.
    /// </summary>
    private static string Artifact(int bits, int weightOffset = 0)
    {
        string type = bits == 16 ? "i16" : "u8", grid = bits == 16 ? "0 -32767 32767" : "128 0 255", relu = bits == 16 ? "0 32767" : "128 255";
        string Ints(params int[] v) => Convert.ToBase64String(v.SelectMany(BitConverter.GetBytes).ToArray());
        string Bytes(int count) => Convert.ToBase64String(Enumerable.Range(0, count).Select(i => (byte)(sbyte)((i * 37 + weightOffset) % 200 - 100)).ToArray());
        return $"""
            quantgen-artifact 1
            model clamp
            meta source Models/clamp.onnx
            tensor x f32 1,2,4,4 1 0 0 0
            tensor x_q {type} 1,2,4,4 0.015625 {grid}
            tensor c_q {type} 1,3,4,4 0.0625 {grid}
            tensor f_q {type} 1,48 0.0625 {grid}
            tensor o_q {type} 1,5 0.125 {grid}
            tensor y f32 1,5 1 0 0 0
            input x x
            output y y
            layer Quantize q
            in x
            out x_q
            end
            layer Conv conv
            in x_q
            out c_q
            ints kernel 1 1
            ints strides 1 1
            ints pads 0 0 0 0
            ints dilations 1 1
            ints group 1
            ints clamp {relu}
            blob weights i8 3,2,1,1 {Bytes(6)}
            blob bias i32 3 {Ints(1, 2, 3)}
            blob multiplier i32 3 {Ints(1 << 30, 1 << 29, 1 << 28)}
            blob shift i32 3 {Ints(36, 36, 36)}
            blob clampHigh i32 3 {Ints(bits == 16 ? new[] { 20000, 32767, 9000 } : new[] { 200, 255, 170 })}
            end
            layer Reshape flatten
            in c_q
            out f_q
            end
            layer FullyConnected fc
            in f_q
            out o_q
            ints clamp {grid.Substring(grid.IndexOf(' ') + 1)}
            blob weights i8 5,48 {Bytes(240)}
            blob bias i32 5 {Ints(0, 0, 0, 0, 0)}
            blob multiplier i32 5 {Ints(1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30)}
            blob shift i32 5 {Ints(38, 38, 38, 38, 38)}
            end
            layer Dequantize d
            in o_q
            out y
            end

            """;
    }

    private static ModelPlan Plan(string text) => ModelPlanner.Plan(GeneratorArtifactText.Read(text), Declaration);

    private static LayerPlan Layer(ModelPlan plan, string name) => plan.Layers.Single(l => l.Name == name);

    private static IEnumerable<ArgumentValue> Arguments(LayerPlan layer) =>
        ((KernelCall)layer.Body).Lines.SelectMany(line => line.Arguments).Select(a => a.Value);

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void PlansAreValuesEqualForEqualArtifactsAndDifferentWhenAWeightChanges(int bits)
    {
        // Two reads of the same text share no object: equality is structural, as the incremental pipeline needs.
        var first = Plan(Artifact(bits));
        var second = Plan(Artifact(bits));
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        var changed = Plan(Artifact(bits, weightOffset: 1));
        Assert.NotEqual(first, changed);
        // Only the weight data differs: the same layers, kernels and arguments.
        Assert.Equal(first.Layers, changed.Layers);
        Assert.NotEqual(first.Data, changed.Data);
    }

    [Theory]
    [InlineData(8, "QuantizeToNhwc", "ConvNhwc", "FullyConnectedPacked")]
    [InlineData(16, "Quantize", "Conv", "FullyConnected")]
    public void ClampHighGoesToTheRequantizingKernelForBothWidths(int bits, string quantize, string conv, string fullyConnected)
    {
        var library = bits == 16 ? KernelLibrary.WideKernels : KernelLibrary.Kernels;
        var plan = Plan(Artifact(bits));
        Assert.Equal(bits, plan.ActivationBits);
        var convCall = (KernelCall)Layer(plan, "conv").Body;
        Assert.Equal((library, conv), (convCall.Library, convCall.Kernel));
        // The conv's bounds are one of its kernel's arguments, the blob's values unchanged ...
        var high = Assert.Single(Arguments(Layer(plan, "conv")).OfType<DataValue>(), d => d.Member.EndsWith("ClampHigh", StringComparison.Ordinal));
        Assert.Equal(DataView.Ints, high.View);
        Assert.Equal(bits == 16 ? [20000, 32767, 9000] : [200, 255, 170], plan.Data.Single(d => d.Member == high.Member).Blob.Values.AsArray());
        // ... and no layer runs a separate clamping pass: every call is the layer's own kernel.
        Assert.Equal([quantize, conv, fullyConnected, "Dequantize"], plan.Layers.Select(l => l.Body).OfType<KernelCall>().Select(c => c.Kernel));
        // The FullyConnected has no bounds: the same argument position holds the empty span.
        var fcCall = (KernelCall)Layer(plan, "fc").Body;
        Assert.Equal(fullyConnected, fcCall.Kernel);
        var fcFirstLine = fcCall.Lines[0].Arguments.Select(a => a.Value).ToList();
        var convFirstLine = convCall.Lines[0].Arguments.Select(a => a.Value).ToList();
        int position = convFirstLine.IndexOf(high);
        Assert.IsType<EmptyValue>(fcFirstLine[position]);
    }

    [Fact]
    public void ChannelsLastAndFusionAreDecidedForByteActivationsOnly()
    {
        var narrow = Plan(Artifact(8));
        Assert.Equal(LayerLayout.NchwToNhwc, Layer(narrow, "q").Layout);
        Assert.Equal(LayerLayout.Nhwc, Layer(narrow, "conv").Layout);
        // The flatten of the NHWC image is read in (H, W, C) order: the FullyConnected's columns are permuted.
        Assert.Equal(LayerLayout.FlattenedNhwc, Layer(narrow, "fc").Layout);
        var wide = Plan(Artifact(16));
        Assert.All(wide.Layers, l => Assert.Equal(LayerLayout.Nchw, l.Layout));
        Assert.All(wide.Layers.Select(l => l.Body).OfType<KernelCall>().Where(c => c.Kernel is not ("Softmax" or "Sigmoid")),
            c => Assert.Equal(KernelLibrary.WideKernels, c.Library));
        // The 16-bit FullyConnected reads the weights as stored; the u8 one permuted and packed.
        int[] Stored(int bits) => GeneratorArtifactText.Read(Artifact(bits)).Layers.Single(l => l.Name == "fc").GetBlob("weights").Values.AsArray();
        int[] Embedded(ModelPlan plan) => plan.Data.Single(d => d.Member.EndsWith("FcWeights", StringComparison.Ordinal)).Blob.Values.AsArray();
        Assert.Equal(Stored(16), Embedded(wide));
        Assert.NotEqual(Stored(8), Embedded(narrow));
    }

    [Fact]
    public void AConvReadOnlyByAHalvingMaxPoolComputesItAndThePoolDoesNothing()
    {
        var plan = Plan(RandomLayerArtifacts.ConvThenMaxPool("fused", 1, 8, 8, 8, 16, 3, 1, 1, leaky: false, negativeMultiplier: false).Text);
        var conv = Layer(plan, "conv");
        Assert.Equal("pool", conv.Fusion.Pool);
        Assert.Equal("ConvMaxPoolNhwc", ((KernelCall)conv.Body).Kernel);
        var pool = Layer(plan, "pool");
        Assert.True(pool.Fusion.ComputedBefore);
        Assert.IsType<NoBody>(pool.Body);
        // A negative multiplier breaks the monotonicity the fusion relies on: both layers run on their own.
        var unfused = Plan(RandomLayerArtifacts.ConvThenMaxPool("fused", 1, 8, 8, 8, 16, 3, 1, 1, leaky: false, negativeMultiplier: true).Text);
        Assert.Null(Layer(unfused, "conv").Fusion.Pool);
        Assert.Equal(["QuantizeToNhwc", "ConvNhwc", "MaxPoolNhwc", "DequantizeFromNhwc"], unfused.Layers.Select(l => ((KernelCall)l.Body).Kernel));
    }

    [Fact]
    public void MovingTheAttributedClassReplansTheSameClassAndPrintsNothingAgain()
    {
        var path = "/project/obj/quantgen/clamp.qgart";
        var user = """
            namespace App
            {
                [QuantGen.QuantizedModel("Models/clamp.onnx")]
                public partial class Clamp { }
            }
            """;
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, Artifact(8))], GeneratedCodeTests.Options(path));
        var compilation = GeneratorHarness.Compilation(user);
        driver = driver.RunGenerators(compilation);
        Assert.Contains(driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("App.Clamp.g.cs", StringComparison.Ordinal));
        // Two lines above the class: its location (part of the Targets step's value) moves, its plan does not.
        var moved = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(), CSharpSyntaxTree.ParseText("// one\n// two\n" + user, GeneratorHarness.ParseOptions()));
        var result = driver.RunGenerators(moved).GetRunResult().Results.Single();
        Assert.Contains(result.TrackedSteps["Targets"].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        var plans = result.TrackedSteps["Plans"].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(plans);
        Assert.All(plans, o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output step was {o.Reason}"));
    }
}
