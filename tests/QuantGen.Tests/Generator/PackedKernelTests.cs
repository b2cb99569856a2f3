using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The packed Conv/FullyConnected kernels on random shapes (odd channel counts, 1x1, stride 2, asymmetric padding,
/// dilation, groups, depthwise rows with vector blocks and tails, channel counts on both sides of the 8- and 32-channel blocks): the SIMD path and the
/// scalar path each give exactly what the integer simulator gives. Hand-built artifacts with random weights, biases,
/// multipliers and zero points, so no quantizer choice hides a case.
/// </summary>
public sealed class PackedKernelTests(ITestOutputHelper output)
{
    [Theory]
    //          c   h   w   m  kh kw sh sw pt pl pb pr dh dw  g  leaky
    [InlineData(3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false)]
    [InlineData(1, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(17, 6, 6, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true)]
    [InlineData(6, 9, 8, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false)]
    [InlineData(7, 8, 8, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 7, true)]
    [InlineData(5, 11, 7, 70, 5, 3, 2, 1, 2, 1, 0, 1, 2, 1, 1, false)]
    [InlineData(32, 4, 4, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true)]
    // NHWC paths: 1×1 read in place (C a multiple of 4) with a partial last block of positions, groups of 8 channels
    // (requantized in registers), a 16-channel block plus an 8-channel block, a first layer with one input channel.
    [InlineData(32, 5, 5, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(12, 5, 3, 20, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1, true)]
    [InlineData(16, 6, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true)]
    [InlineData(8, 7, 6, 24, 3, 3, 2, 1, 1, 0, 1, 2, 1, 2, 1, false)]
    [InlineData(1, 9, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false)]
    // Group 1 with kernel rows read from a padded plane (ConvRowsAvxVnni): the CNN's first layer (C = 1, 16 outputs),
    // C = 3 at stride 2 with two 16-channel blocks, vertical dilation with asymmetric pads and a 16 + 8 block, a 1×3
    // row of 15 bytes (its padding byte is the next pixel's), a 1×1 over 6 channels at stride 2 with padding, a plane
    // cropped where no output reaches the input's last column and row, and odd M (the gathered path).
    [InlineData(1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false)]
    [InlineData(3, 9, 11, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true)]
    [InlineData(3, 10, 7, 24, 3, 3, 2, 1, 0, 1, 2, 0, 2, 1, 1, false)]
    [InlineData(5, 7, 8, 8, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1, true)]
    [InlineData(6, 5, 5, 16, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, false)]
    [InlineData(3, 9, 10, 8, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(2, 6, 9, 13, 5, 5, 1, 2, 2, 2, 2, 2, 1, 1, 1, true)]
    // Depthwise rows long enough for the 8-wide vector blocks plus a scalar tail: stride 1, stride 2, dilation, asymmetric pads.
    [InlineData(5, 19, 21, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, false)]
    [InlineData(3, 20, 35, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, true)]
    [InlineData(4, 12, 26, 4, 3, 5, 1, 2, 0, 2, 1, 1, 2, 2, 4, false)]
    // Depthwise NHWC over channels: a 16-channel block, an 8-channel block and a scalar tail; stride 2, LeakyRelu.
    [InlineData(27, 7, 6, 27, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 27, true)]
    [InlineData(48, 5, 5, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 48, false)]
    // Whole 16-channel depthwise blocks (3×3 unrolled, stride 2, and a 3×5 kernel through the tap loop); 1×1 layers read
    // in place (stride 1 and 2); 16 + 16 + 8 output channels over a padded plane.
    [InlineData(32, 9, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32, true)]
    [InlineData(64, 6, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 64, false)]
    [InlineData(16, 7, 9, 16, 3, 5, 1, 1, 1, 2, 1, 2, 1, 1, 16, false)]
    // Kernel rows interleaved for vpdpbusd (DepthwiseNhwcAvxVnni): a 4×2 kernel with dilation 2 both ways, a 5×1 kernel
    // at stride 2, a 1×4 kernel (all four tap slots used) with asymmetric pads.
    [InlineData(32, 8, 9, 32, 4, 2, 1, 2, 1, 1, 2, 1, 2, 2, 32, false)]
    [InlineData(16, 9, 6, 16, 5, 1, 2, 1, 2, 0, 2, 0, 1, 1, 16, true)]
    [InlineData(48, 4, 11, 48, 1, 4, 1, 1, 0, 2, 0, 1, 1, 1, 48, true)]
    // Two output columns per interleaved column at stride 1: an even output width with 3×3, and a 2×2 kernel.
    [InlineData(32, 6, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, true)]
    [InlineData(16, 5, 6, 16, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 16, false)]
    [InlineData(16, 6, 5, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true)]
    [InlineData(24, 7, 9, 48, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(8, 6, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false)]
    // Pointwise passes (1×1, stride 1, in place) with partial last blocks of positions: 32 channels with LeakyRelu,
    // 32 + 24, 32 + 16 with LeakyRelu, 32 then an 8-channel block through the cursor loop.
    [InlineData(20, 3, 5, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true)]
    [InlineData(12, 7, 3, 56, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(8, 3, 3, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true)]
    [InlineData(4, 5, 7, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    // Large (≥ 2^24 MACs): split between threads on the "3 threads" path; 16 + 16 + 16 + 8 channels, and a 1×1 in place.
    [InlineData(40, 32, 30, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true)]
    [InlineData(128, 32, 32, 136, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    // Winograd F(2×2, 3×3) (3×3, 1×3, 3×1, stride 1, group 1, 8 to 1800 input channels; taken without VNNI): 9 channels (a partial
    // 16-lane chunk, an odd pair) with asymmetric pads, 16 + 8 outputs and an odd output height; 20 channels with no
    // padding (5×7 outputs: partial tiles both ways); 33 channels with pads of 2 and 11 output columns.
    [InlineData(9, 7, 10, 24, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1, 1, true)]
    [InlineData(20, 7, 9, 16, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, false)]
    [InlineData(33, 6, 9, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, false)]
    // F(2, 3) for the openWakeWord embedding model's separable kernels: 1×3 with an odd output width and 32 + 8
    // outputs, 3×1 over 17 channels with an odd output height.
    [InlineData(24, 7, 9, 40, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1, true)]
    [InlineData(17, 8, 5, 32, 3, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, false)]
    public void ConvSimdAndScalarMatchTheSimulator(int c, int h, int w, int m, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int g, bool leaky)
    {
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        // As the generator lays it out (NHWC where the channels and pixels make it differ), and forced to NCHW by a
        // flatten that only a Dequantize reads.
        var nhwc = Check(RandomLayerArtifacts.Conv("conv", Inputs, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, leaky, forceNchw: false));
        var nchw = Check(RandomLayerArtifacts.Conv("conv", Inputs, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, leaky, forceNchw: true));
        Assert.Contains(g == c && g == m && g > 1 ? "DepthwiseConvNhwc(" : "ConvNhwc(", nhwc);
        // The generator passes a Winograd cache to exactly the 3×3, 1×3 and 3×1 stride-1, undilated group-1 layers of 8 to
        // 1800 channels and of at least 8 tiles where the products saved beat the tiles' padding by a quarter (1×3 and 3×1: 32+ outputs).
        bool winogradKernel = kh == 3 && kw is 3 or 1 || kh == 1 && kw == 3;
        int th = kh == 3 ? 2 : 1, tw = kw == 3 ? 2 : 1, tiles = (oh + th - 1) / th * ((ow + tw - 1) / tw), elements = kh * kw == 9 ? 16 : 4;
        bool worth = tiles >= 8 && 4 * kh * kw * oh * ow >= 5 * elements * tiles && (elements == 16 || m >= 32);
        Assert.Equal(g == 1 && winogradKernel && sh == 1 && sw == 1 && dh == 1 && dw == 1 && c >= 8 && m % 8 == 0 && worth, nhwc.Contains("Winograd", StringComparison.Ordinal));
        // The generator splits exactly the group-1 convolutions of at least 2^24 multiply-accumulates.
        Assert.Equal(g == 1 && (long)m * oh * ow * c * kh * kw >= 1 << 24, nhwc.Contains("RunParts(", StringComparison.Ordinal));
        if (m > 1 && oh * ow > 1) Assert.Contains(g == c && g == m && g > 1 ? "DepthwiseConv(" : "ConvPacked(", nchw);
    }

    /// <summary>
    /// A convolution read only by a 2×2, stride-2 MaxPool: fused into one kernel (requantized once per window) where
    /// every multiplier is ≥ 0, not fused with a negative one; even and odd sides, 1×1 in place, 16 + 16 + 8 channels.
    /// </summary>
    /// <summary>
    /// The two exact forms of the AVX2 conv kernels (ConvRowsAvx2), chosen from the weights: |w| ≤ 64 (every pair
    /// within 128: vpmaddubsw cannot saturate, PairsFit), 65 (a pair can exceed 128: SignSplit, as 127 does in the other
    /// theories), 128 (−128 present: neither form, the gather path); 3×3 and 1×1, 16 + 8 channels, stride 2, pooled.
    /// </summary>
    [Theory]
    //          c   h   w   m  k  s pad magnitude pool
    [InlineData(16, 9, 9, 32, 3, 1, 1, 64, false)]
    [InlineData(3, 11, 10, 24, 3, 2, 1, 64, false)]
    [InlineData(32, 6, 7, 24, 1, 1, 0, 64, false)]
    [InlineData(8, 8, 10, 24, 3, 1, 1, 64, true)]
    [InlineData(8, 9, 7, 16, 3, 1, 1, 65, false)]
    [InlineData(16, 8, 8, 24, 3, 1, 1, 65, true)]
    [InlineData(16, 9, 9, 32, 3, 1, 1, 128, false)]
    [InlineData(8, 8, 8, 16, 3, 1, 1, 128, true)]
    public void ConvWeightRangesMatchTheSimulator(int c, int h, int w, int m, int k, int stride, int pad, int weightMagnitude, bool pool) =>
        Check(pool
            ? RandomLayerArtifacts.ConvThenMaxPool("conv", Inputs, c, h, w, m, k, stride, pad, false, false, weightMagnitude)
            : RandomLayerArtifacts.Conv("conv", Inputs, c, h, w, m, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1, false, forceNchw: false, weightMagnitude));

    [Theory]
    //          c   h   w   m  kh  s  pad leaky negative
    [InlineData(1, 12, 12, 16, 3, 1, 1, false, false)]
    [InlineData(16, 7, 9, 32, 3, 1, 1, true, false)]
    [InlineData(24, 8, 6, 40, 1, 1, 0, false, false)]
    [InlineData(8, 10, 11, 24, 3, 2, 1, false, false)]
    [InlineData(8, 6, 6, 16, 3, 1, 1, false, true)]
    // Winograd tiles as the pooling windows: 17 channels, odd sides (the last row and column dropped), 16 + 8 outputs.
    [InlineData(17, 9, 7, 24, 3, 1, 1, true, false)]
    public void ConvThenMaxPoolMatchesTheSimulator(int c, int h, int w, int m, int k, int stride, int pad, bool leaky, bool negativeMultiplier)
    {
        var source = Check(RandomLayerArtifacts.ConvThenMaxPool("conv", Inputs, c, h, w, m, k, stride, pad, leaky, negativeMultiplier));
        Assert.Equal(!negativeMultiplier, source.Contains("ConvMaxPoolNhwc(", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 37, 45, false)]
    [InlineData(3, 64, 8, true)]
    [InlineData(2, 5, 1, false)]
    // Few output channels over a long K (a classifier's last layer): 16-channel and 8-channel blocks with split chains.
    [InlineData(1, 1568, 10, false)]
    [InlineData(2, 203, 24, true)]
    [InlineData(1, 64, 16, false)]
    public void FullyConnectedSimdAndScalarMatchTheSimulator(int rows, int k, int m, bool leaky) =>
        Check(RandomLayerArtifacts.FullyConnected("fc", Inputs, rows, k, m, leaky));

    /// <summary>
    /// MaxPool (3×3, stride 1, pad 1, so it keeps the shape), AveragePool of the same input (3×3, stride 1, pads,
    /// with and without counting them) and an Add of the two, on channel counts around the 16- and 32-byte vectors; in
    /// the generator's layout and forced to NCHW.
    /// </summary>
    [Theory]
    [InlineData(5, 6, 7, false)]
    [InlineData(24, 5, 4, true)]
    [InlineData(35, 4, 6, false)]
    [InlineData(16, 5, 6, false)]
    [InlineData(32, 4, 5, true)]
    public void PoolingAndAddMatchTheSimulator(int c, int h, int w, bool countIncludePad)
    {
        foreach (var forceNchw in new[] { false, true })
        {
            var source = Check(RandomLayerArtifacts.PoolingAndAdd("pools", 10, c, h, w, countIncludePad, forceNchw), distinctAtLeast: 17);
            Assert.Contains(forceNchw ? "MaxPool(" : "MaxPoolNhwc(", source);
            Assert.Contains(forceNchw ? "AveragePool(" : "AveragePoolNhwc(", source);
        }
    }

    /// <summary>Random inputs per case: enough to reach every branch of the kernels on these shapes.</summary>
    private const int Inputs = 20;

    /// <summary>
    /// A Conv or FullyConnected whose output is the model's f32 output (docs/artifact.md, "Float outputs"):
    /// ConvNhwcToFloat, ConvPackedToFloat (input kept NCHW) and FullyConnectedPackedToFloat, grouped and depthwise
    /// layers included, on every kernel path, equal the simulator bit for bit, clamp bounds and LeakyRelu slopes too.
    /// </summary>
    [Theory]
    //          c   h   w   m  kh kw sh sw pt pl pb pr dh dw  g  leaky
    [InlineData(3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false)]
    [InlineData(17, 6, 6, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true)]
    [InlineData(6, 9, 8, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false)]
    [InlineData(16, 6, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, true)]
    [InlineData(8, 7, 6, 24, 3, 3, 2, 1, 1, 0, 1, 2, 1, 2, 1, false)]
    [InlineData(1, 9, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true)]
    [InlineData(12, 5, 5, 32, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 1, false)]
    public void FloatOutputConvMatchesTheSimulator(int c, int h, int w, int m, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int g, bool leaky)
    {
        var nhwc = Check(RandomLayerArtifacts.Conv("conv", Inputs, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, leaky, forceNchw: false, floatOutput: true));
        var nchw = Check(RandomLayerArtifacts.Conv("conv", Inputs, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, leaky, forceNchw: true, floatOutput: true));
        // One input channel has the same bytes in either layout: the generator reads it channels-last both times.
        Assert.Contains(c > 1 ? "QuantGenKernels.ConvPackedToFloat(" : "QuantGenKernels.ConvNhwcToFloat(", nchw, StringComparison.Ordinal);
        Assert.Contains("QuantGenKernels.ConvNhwcToFloat(", nhwc, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 37, 19, true)]
    [InlineData(1, 64, 10, false)]
    [InlineData(7, 8, 40, true)]
    public void FloatOutputFullyConnectedMatchesTheSimulator(int rows, int k, int m, bool leaky) =>
        Assert.Contains("QuantGenKernels.FullyConnectedPackedToFloat(", Check(RandomLayerArtifacts.FullyConnected("fc", Inputs, rows, k, m, leaky, floatOutput: true)), StringComparison.Ordinal);

    /// <summary>
    /// Generates the case's model, checks every kernel path against the simulator on each of its inputs and that Run
    /// allocates nothing, returns the generated model source.
    /// </summary>
    private string Check(RandomLayerArtifacts.Case testCase, int distinctAtLeast = 0)
    {
        var artifact = ArtifactText.Read(testCase.Text);
        var path = "/project/obj/quantgen/packed.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, testCase.Text)], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe, LanguageVersion.CSharp9), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("Model.g.cs", StringComparison.Ordinal)).ToString();
        var run = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        int outputs = 0, distinct = 0, outputLength = 0;
        foreach (var x in testCase.Inputs)
        {
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            foreach (var (name, select) in paths)
            {
                select();
                Assert.True(expected.SequenceEqual(run(x)), $"{name} path differs from the simulator");
            }
            outputs += expected.Length;
            outputLength = expected.Length;
            distinct = Math.Max(distinct, expected.Distinct().Count());
        }
        paths[0].Select();
        // One thread (the default): Run allocates nothing, large layers included.
        var probe = assembly.GetType("Probe")!;
        Assert.Equal(0L, (long)probe.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [new float[testCase.Inputs[0].Length]])!);
        // Not a degenerate case: the outputs take many values, not only the clamp bounds.
        Assert.True(distinct >= Math.Max(distinctAtLeast, Math.Min(9, outputLength / 2 + 1)), $"only {distinct} distinct outputs");
        output.WriteLine($"{string.Join(",", artifact.GetTensor("x").Shape)} → {string.Join(",", artifact.GetTensor("y").Shape)}: {outputs} outputs, every kernel path bit-identical to the simulator");
        return source;
    }

    private const string Probe = """
        public static class Probe
        {
            // A new instance per call: its buffers hold nothing another kernel path wrote, so a path that leaves an
            // output unwritten cannot pass on the values of the path before it.
            public static float[] Run(float[] input)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                new Demo.Models.Model().Run(input, output);
                return output;
            }

            // The least over five batches: a per-Run allocation shows in every batch, a one-off of the runtime (a
            // method promoted by tiered compilation while the batch runs) in one at most.
            public static long AllocatedBytesPerRun(float[] input)
            {
                var model = new Demo.Models.Model();
                var output = new float[Demo.Models.Model.OutputLength];
                model.Run(input, output);
                long least = long.MaxValue;
                for (int batch = 0; batch < 5; batch++)
                {
                    long before = System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 20; i++) model.Run(input, output);
                    least = System.Math.Min(least, (System.GC.GetAllocatedBytesForCurrentThread() - before) / 20);
                }
                return least;
            }
        }
        """;
}
