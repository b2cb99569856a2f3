using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Factorization;

/// <summary>
/// FactorizedConv on hand-built artifacts with random factors and conv geometries (k×k and 1×1 kernels, strides,
/// asymmetric padding, dilation, odd channel counts, two images, one- and two-byte indices, dense and sparse factors,
/// 2- to 8-bit factors, with and without a fused LeakyRelu and per-channel upper bounds):
/// the simulator equals a direct integer evaluation of the stored factors over an independently written im2col, and
/// the generated class (C# 9, with and without System.Runtime.Intrinsics) equals the simulator bit for bit.
/// </summary>
public sealed class FactorizedConvKernelTests(ITestOutputHelper output)
{
    public static TheoryData<ConvCase> Cases() =>
    [
        //           n  c  h  w  m  kh kw sh sw pads(t l b r)  dh dw  r  nB  nA bB bA
        new ConvCase(1, 3, 7, 6, 5, 3, 3, 1, 1, [1, 1, 1, 1], 1, 1, 4, 27, 4, 8, 8),
        new ConvCase(2, 5, 9, 8, 7, 3, 3, 2, 2, [1, 0, 1, 1], 1, 1, 6, 20, 3, 4, 4),
        new ConvCase(1, 9, 5, 5, 11, 1, 1, 1, 1, [0, 0, 0, 0], 1, 1, 3, 9, 3, 5, 3),
        new ConvCase(1, 3, 10, 9, 4, 2, 3, 2, 1, [0, 2, 1, 0], 2, 2, 5, 7, 2, 2, 6),
        new ConvCase(1, 33, 6, 6, 13, 3, 3, 2, 2, [1, 1, 0, 0], 1, 1, 8, 40, 8, 4, 4),
        // A MobileNet expand layer (1×1, equalized ReLU6) and a LeakyRelu k×k conv, at 2 and 3 bits.
        new ConvCase(1, 7, 6, 5, 21, 1, 1, 1, 1, [0, 0, 0, 0], 1, 1, 7, 7, 7, 3, 3) { Activation = FactorizedKernelTests.FusedActivation.ClampHigh },
        new ConvCase(2, 4, 7, 7, 9, 3, 3, 1, 2, [1, 1, 1, 0], 1, 1, 6, 36, 6, 2, 3) { Activation = FactorizedKernelTests.FusedActivation.Leaky },
        new ConvCase(1, 6, 5, 6, 10, 3, 3, 1, 1, [1, 1, 1, 1], 1, 1, 5, 30, 3, 3, 2) { Activation = FactorizedKernelTests.FusedActivation.LeakyAndClampHigh },
        // One entry per row in B (an expand layer's scaled permutation, or one tap of a padded 3×3 field) or in A:
        // that stage runs elementwise.
        new ConvCase(1, 8, 6, 5, 20, 1, 1, 1, 1, [0, 0, 0, 0], 1, 1, 8, 1, 8, 4, 4),
        new ConvCase(2, 5, 7, 6, 6, 3, 3, 1, 1, [1, 1, 1, 1], 1, 1, 6, 45, 1, 3, 4) { Activation = FactorizedKernelTests.FusedActivation.Leaky },
        new ConvCase(1, 4, 7, 7, 9, 3, 3, 2, 1, [1, 0, 1, 1], 1, 1, 5, 1, 1, 4, 3),
        new ConvCase(1, 4, 7, 7, 9, 3, 3, 2, 1, [1, 0, 1, 1], 1, 1, 5, 1, 1, 4, 3) { Nchw = true },
        // A dense B at ranks past one 8-channel block (RP 24 = 16 + 8, 32, 40): on AVX2 without VNNI stage 1 runs from the
        // padded plane (FactorizedRowsAvx2) in SignSplit (8-bit B) or PairsFit (≤ 6-bit) form; padding, stride 2,
        // dilation, odd channel and output counts, two images, 1×1 read in place (strided too), A dense or one entry per row.
        new ConvCase(1, 5, 7, 6, 13, 3, 3, 1, 1, [1, 1, 1, 1], 1, 1, 20, 45, 20, 8, 8),
        new ConvCase(2, 6, 9, 8, 32, 3, 3, 2, 2, [1, 0, 0, 1], 1, 1, 32, 54, 1, 4, 6) { Activation = FactorizedKernelTests.FusedActivation.Leaky },
        new ConvCase(1, 7, 9, 9, 11, 3, 3, 1, 2, [2, 1, 2, 0], 2, 1, 17, 63, 17, 8, 4) { Activation = FactorizedKernelTests.FusedActivation.ClampHigh },
        new ConvCase(1, 8, 7, 5, 24, 1, 1, 2, 2, [0, 0, 0, 0], 1, 1, 24, 8, 24, 8, 3),
        new ConvCase(2, 12, 5, 6, 40, 1, 1, 1, 1, [0, 0, 0, 0], 1, 1, 40, 12, 1, 6, 8),
        new ConvCase(1, 3, 6, 7, 9, 1, 1, 1, 1, [1, 0, 0, 1], 1, 1, 3, 3, 3, 5, 5),
        // A −128 in an 8-bit B: neither AVX2 form is exact, the gathered path takes the layer.
        new ConvCase(1, 5, 7, 6, 13, 3, 3, 1, 1, [1, 1, 1, 1], 1, 1, 20, 45, 20, 8, 8) { Saturating = true },
        // Read through a flatten (no NHWC reader): the generated class keeps NCHW and runs the NCHW kernel.
        new ConvCase(2, 5, 9, 8, 7, 3, 3, 2, 2, [1, 0, 1, 1], 1, 1, 6, 20, 3, 4, 4) { Nchw = true },
        new ConvCase(1, 3, 10, 9, 4, 2, 3, 2, 1, [0, 2, 1, 0], 2, 2, 5, 7, 2, 2, 6) { Nchw = true, Activation = FactorizedKernelTests.FusedActivation.Leaky },
    ];

    public sealed record ConvCase(int N, int C, int H, int W, int M, int KH, int KW, int SH, int SW, int[] Pads, int DH, int DW, int R, int NB, int NA, int BB, int BA)
    {
        public FactorizedKernelTests.FusedActivation Activation { get; init; }

        /// <summary>B's first level is −128 (an 8-bit B), which no exact vpmaddubsw form takes.</summary>
        public bool Saturating { get; init; }

        /// <summary>The output is read through a Reshape to rows, which keeps the layer's tensors NCHW.</summary>
        public bool Nchw { get; init; }

        public int K => C * KH * KW;

        public int OH => (H + Pads[0] + Pads[2] - DH * (KH - 1) - 1) / SH + 1;

        public int OW => (W + Pads[1] + Pads[3] - DW * (KW - 1) - 1) / SW + 1;

        public override string ToString() => $"[{N},{C},{H},{W}] {KH}x{KW}/{SH},{SW} → {M}, rank {R}, {BB}/{BA}-bit, {Activation}{(Nchw ? ", NCHW" : "")}{(Saturating ? ", B has −128" : "")}";
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SimulatorAndGeneratedCodeComputeTheStoredFactorsExactly(ConvCase t)
    {
        int k = t.K, r = t.R, m = t.M, oh = t.OH, ow = t.OW;
        var random = new Random(k * 31 + m * 7 + r);
        var (bLevels, bColumns) = FactorizedKernelTests.RandomFactor(random, r, k, t.NB, t.BB);
        var (aLevels, aColumns) = FactorizedKernelTests.RandomFactor(random, m, r, t.NA, t.BA);
        if (t.Saturating) bLevels[0] = -128;
        int zx = random.Next(0, 256), zy = random.Next(0, 256), lo = random.Next(0, 20), hi = random.Next(235, 256);
        int zShiftBase = 31 + (int)Math.Round(Math.Log2(Math.Sqrt(t.NB) * (1 << (t.BB - 1)) * 128 / 4000.0));
        int shiftBase = 31 + (int)Math.Round(Math.Log2(Math.Sqrt(t.NA) * (1 << (t.BA - 1)) * 4000 / 64.0));
        int[] Random(int count, int min, int max) => Enumerable.Range(0, count).Select(_ => random.Next(min, max)).ToArray();
        var zMult = Random(r, 1 << 30, int.MaxValue);
        var zShift = Random(r, zShiftBase - 1, zShiftBase + 2);
        var bias = Random(m, -20000, 20000);
        var mult = Random(m, 1 << 30, int.MaxValue);
        var shift = Random(m, shiftBase - 1, shiftBase + 2);
        var fused = FactorizedKernelTests.FusedOutput.Random(random, t.Activation, m, shift, zy, lo, hi);

        string Bytes(int[] values) => Convert.ToBase64String(values.Select(v => (byte)v).ToArray());
        string Ints(int[] values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
        var layer = new StringBuilder("layer FactorizedConv conv\nin x_q\nout y_q\n")
            .Append($"ints kernel {t.KH} {t.KW}\nints strides {t.SH} {t.SW}\nints pads {string.Join(' ', t.Pads)}\nints dilations {t.DH} {t.DW}\n")
            .Append($"ints rank {r}\nints nonzeros {t.NB} {t.NA}\nints bits {t.BB} {t.BA}\nints clamp {lo} {hi}\n");
        var bValues = FactorStorage.PackValues(bLevels, t.BB);
        layer.Append($"blob bValues u8 {bValues.Length} {Bytes(bValues)}\n");
        if (t.NB < k) layer.Append($"blob bIndices u8 {FactorStorage.PackIndices(bColumns, k).Length} {Bytes(FactorStorage.PackIndices(bColumns, k))}\n");
        layer.Append($"blob zMultiplier i32 {r} {Ints(zMult)}\nblob zShift i32 {r} {Ints(zShift)}\n");
        var aValues = FactorStorage.PackValues(aLevels, t.BA);
        layer.Append($"blob aValues u8 {aValues.Length} {Bytes(aValues)}\n");
        if (t.NA < r) layer.Append($"blob aIndices u8 {FactorStorage.PackIndices(aColumns, r).Length} {Bytes(FactorStorage.PackIndices(aColumns, r))}\n");
        layer.Append($"blob bias i32 {m} {Ints(bias)}\nblob multiplier i32 {m} {Ints(mult)}\nblob shift i32 {m} {Ints(shift)}\n").Append(fused.Blobs()).Append("end\n");
        string inShape = $"{t.N},{t.C},{t.H},{t.W}", outShape = $"{t.N},{m},{oh},{ow}", rowsShape = $"{t.N},{m * oh * ow}";
        var text = "quantgen-artifact 1\nmodel factorized\nmeta source Models/factorized.onnx\n"
            + $"tensor x f32 {inShape} 1 0 0 0\ntensor x_q u8 {inShape} 0.015625 {zx} 0 255\n"
            + $"tensor y_q u8 {outShape} 0.0625 {zy} 0 255\n"
            + (t.Nchw ? $"tensor f_q u8 {rowsShape} 0.0625 {zy} 0 255\ntensor y f32 {rowsShape} 1 0 0 0\n" : $"tensor y f32 {outShape} 1 0 0 0\n")
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n" + layer
            + (t.Nchw ? "layer Reshape flatten\nin y_q\nout f_q\nend\nlayer Dequantize d\nin f_q\nout y\nend\n" : "layer Dequantize d\nin y_q\nout y\nend\n");
        var simulator = new IntegerSimulator(ArtifactText.Read(text));

        var path = "/project/obj/quantgen/factorized.qgart";
        var runs = new List<Func<float[], float[]>>();
        foreach (bool intrinsics in new[] { true, false })
        {
            var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, text)], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
            var compilation = GeneratorHarness.Compilation(FactorizedKernelTests.Probe, LanguageVersion.CSharp9, intrinsics);
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
            var problems = generated.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            // The layout decides the kernel: channels-last unless a reader needs NCHW.
            Assert.Contains(generated.SyntaxTrees, tree => tree.ToString().Contains(t.Nchw ? ".FactorizedConv(" : ".FactorizedConvNhwc(", StringComparison.Ordinal));
            FactorizedKernelTests.AssertFactorForms(generated, t.NB == 1, t.NA == 1);
            var (assembly, _) = GeneratorHarness.Build(compilation, driver);
            runs.Add(assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>());
        }

        int distinct = 0;
        for (int trial = 0; trial < 10; trial++)
        {
            var q = Random(t.N * t.C * t.H * t.W, 0, 256);
            var x = q.Select(v => (v - zx) / 64f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            Assert.Equal(Direct(t, q, zx, bLevels, bColumns, aLevels, aColumns, zMult, zShift, bias, mult, shift, fused, zy, lo, hi), expected);
            foreach (var run in runs) Assert.Equal(expected, run(x));
            distinct = Math.Max(distinct, expected.Distinct().Count());
        }
        Assert.True(distinct > 8, $"only {distinct} distinct outputs");
        fused.AssertExercised();
        output.WriteLine($"{t}: simulator = direct evaluation = generated (C# 9, SIMD and scalar builds), {distinct} distinct outputs");
    }

    /// <summary>
    /// The reference: B as dense integer filters [r, C, KH, KW] convolved over the zero-point-centred input with zero
    /// padding, requantized to z, then A as a 1×1 conv — written from the conv definition, not from the simulator.
    /// </summary>
    private static float[] Direct(ConvCase t, int[] q, int zx, int[] bLevels, int[] bColumns, int[] aLevels, int[] aColumns,
        int[] zMult, int[] zShift, int[] bias, int[] mult, int[] shift, FactorizedKernelTests.FusedOutput fused, int zy, int lo, int hi)
    {
        int k = t.K, r = t.R, m = t.M, oh = t.OH, ow = t.OW;
        var filters = new int[r, t.C, t.KH, t.KW];
        for (int c = 0; c < r; c++)
            for (int s = 0; s < t.NB; s++)
            {
                int j = bColumns[c * t.NB + s];
                filters[c, j / (t.KH * t.KW), j / t.KW % t.KH, j % t.KW] = bLevels[c * t.NB + s];
            }
        var mix = new int[m, r];
        for (int o = 0; o < m; o++)
            for (int s = 0; s < t.NA; s++) mix[o, aColumns[o * t.NA + s]] = aLevels[o * t.NA + s];

        var y = new float[t.N * m * oh * ow];
        for (int n = 0; n < t.N; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    var z = new long[r];
                    for (int c = 0; c < r; c++)
                    {
                        long sum = 0;
                        for (int ci = 0; ci < t.C; ci++)
                            for (int ky = 0; ky < t.KH; ky++)
                                for (int kx = 0; kx < t.KW; kx++)
                                {
                                    int iy = oy * t.SH + ky * t.DH - t.Pads[0], ix = ox * t.SW + kx * t.DW - t.Pads[1];
                                    bool inside = iy >= 0 && iy < t.H && ix >= 0 && ix < t.W;
                                    int value = inside ? q[((n * t.C + ci) * t.H + iy) * t.W + ix] : zx;
                                    sum += filters[c, ci, ky, kx] * (value - zx);
                                }
                        z[c] = FactorizedKernelTests.FusedOutput.Scaled(sum, zMult[c], zShift[c], 0, -32767, 32767);
                    }
                    for (int o = 0; o < m; o++)
                    {
                        long acc = bias[o];
                        for (int c = 0; c < r; c++) acc += mix[o, c] * z[c];
                        y[((n * m + o) * oh + oy) * ow + ox] = 0.0625f * (fused.Requantize(acc, o, mult, shift, zy, lo, hi) - zy);
                    }
                }
        return y;
    }
}
