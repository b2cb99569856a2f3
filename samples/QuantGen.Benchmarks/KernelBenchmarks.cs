extern alias kernels;

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using FloatKernels = kernels::QuantGen.Generated.QuantGenFloatKernels;
using Kernels = kernels::QuantGen.Generated.QuantGenKernels;

namespace QuantGen.Benchmarks;

/// <summary>
/// Single kernels of src/QuantGen.Kernels (referenced directly, aliased: this assembly also holds the generated copy
/// its models call), SIMD and scalar, on layers shaped like the test models' (random weights and inputs: the kernels'
/// speed does not depend on the values), so that a kernel change is timed in isolation:
/// <c>QuantGen.Benchmarks.dll kernels [BenchmarkDotNet arguments]</c> (docs/benchmarks.md).
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class KernelBenchmarks
{
    private sealed class Config : ManualConfig
    {
        // As ModelBenchmarks; AsDefault: a job given on the command line (--job dry --inProcess, a smoke run) replaces it.
        public Config() => AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
    }

    /// <summary>QuantGenKernels.SimdEnabled: the SIMD paths this CPU has, or the scalar loops.</summary>
    [Params(true, false)]
    public bool Simd { get; set; } = true;

    private Conv _conv3x3 = null!, _pointwise = null!, _depthwise = null!, _depthwiseTail = null!;
    private byte[] _fcInput = [], _fcOutput = [], _col = [], _requantized = [];
    private sbyte[] _fcWeights = [];
    private int[] _acc = [], _fcBias = [];
    private float[] _fcScale = [];
    private Factorized _factorized = null!;
    private int[] _diagonal = [], _convZeroTerms = [];
    private float[] _convZScale = [];
    private byte[] _remapX = [], _remapY = [];
    private int[] _upsample = [], _pad = [], _transpose = [];
    private float[] _fa = [], _fb = [], _fy = [], _audio = [], _stft = [], _stftOut = [];
    private float[] _planes = [], _upsampled = [], _fcWeightsFloat = [], _deconvWeights = [];
    private int[] _resizeStart = [], _nearestLo = [], _nearestBits = [], _linearLo = [], _linearHi = [], _linearBits = [];

    /// <summary>One NHWC convolution's operands: n = 1, square input, "same" padding.</summary>
    private sealed class Conv
    {
        public byte[] X = [], Y = [];
        public sbyte[] W = [];
        public int[] Bias = [];
        public float[] Scale = [];
        public int C, Side, M, K, Pad, Out;

        public static Conv Create(Random random, int c, int side, int m, int k, bool depthwise)
        {
            int pad = k / 2, row = (k * c + 3) & ~3, mp = (m + 7) & ~7;
            return new Conv
            {
                C = c,
                Side = side,
                M = m,
                K = k,
                Pad = pad,
                Out = side,
                X = Bytes(random, side * side * c),
                Y = new byte[side * side * m],
                // Depthwise: [KH·KW, C]; otherwise packed [KP/4, MP, 4] with KP = KH · the padded row.
                W = Weights(random, depthwise ? k * k * c : k * row * mp),
                Bias = Enumerable.Range(0, m).Select(_ => random.Next(-2000, 2000)).ToArray(),
                Scale = Enumerable.Range(0, m).Select(_ => (float)(random.NextDouble() * 1e-3 + 1e-4)).ToArray(),
            };
        }
    }

    /// <summary>
    /// A factorized 1×1 NHWC convolution in the planner's "plain" expand form (A = W dense [M, r], B a scaled
    /// permutation [r, C]), operands as the generator's Derived fields hold them (B, one entry per row, as FactorEntries'
    /// columns and values; A in int16 pairs).
    /// </summary>
    private sealed class Factorized
    {
        public byte[] X = [], Y = [];
        public int[] BEntries = [];
        public short[] A = [];
        public int[] ZeroTerms = [], Bias = [];
        public float[] ZScale = [], Scale = [];
        public int C, Side, M;

        public static Factorized Create(Random random, int c, int side, int m)
        {
            int rank = c, rp2 = (rank + 1) & ~1, mp = (m + 7) & ~7;
            var b = new int[2 * rank];
            for (int r = 0; r < rank; r++)
            {
                b[r] = r;
                b[rank + r] = random.Next(1, 8);
            }
            return new Factorized
            {
                C = c,
                Side = side,
                M = m,
                X = Bytes(random, side * side * c),
                Y = new byte[side * side * m],
                BEntries = b,
                A = Enumerable.Range(0, rp2 * mp).Select(_ => (short)random.Next(-7, 8)).ToArray(),
                ZeroTerms = new int[rank],
                ZScale = Enumerable.Range(0, rank).Select(_ => (float)(random.NextDouble() * 0.1 + 0.01)).ToArray(),
                Bias = Enumerable.Range(0, m).Select(_ => random.Next(-2000, 2000)).ToArray(),
                Scale = Enumerable.Range(0, m).Select(_ => (float)(random.NextDouble() * 1e-3 + 1e-4)).ToArray(),
            };
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        Kernels.SimdEnabled = Simd;
        var random = new Random(1);
        // The CNN's second convolution (3×3, 16 → 32 channels at 14×14), MobileNet's 14×14 expand (24 → 96) and its
        // depthwise 3×3 over 96 channels, the MLP's first layer (784 → 128).
        _conv3x3 = Conv.Create(random, 16, 14, 32, 3, depthwise: false);
        _pointwise = Conv.Create(random, 24, 14, 96, 1, depthwise: false);
        _depthwise = Conv.Create(random, 96, 14, 96, 3, depthwise: true);
        // MobileNetV3's 72-channel depthwise: blocks of 16 (or 64) and a last 8.
        _depthwiseTail = Conv.Create(random, 72, 14, 72, 3, depthwise: true);
        _fcInput = Bytes(random, 784);
        _fcOutput = new byte[128];
        _fcWeights = Weights(random, 784 * 128);
        _fcBias = Enumerable.Range(0, 128).Select(_ => random.Next(-2000, 2000)).ToArray();
        _fcScale = Enumerable.Range(0, 128).Select(_ => (float)(random.NextDouble() * 1e-3 + 1e-4)).ToArray();
        // Scratch as the generator sizes it, rounded up: padded planes, interleaved depthwise rows, four fields.
        _col = new byte[1 << 18];
        _acc = Enumerable.Range(0, 4 * 128).Select(_ => random.Next(-300000, 300000)).ToArray();
        _requantized = new byte[128];
        _factorized = Factorized.Create(random, 24, 14, 96);
        // The CNN's second convolution in the planner's "plain" form B = W, A diagonal: B is _conv3x3's packed weights
        // (rank 32, the same [KP/4, 32, 4] layout), A one entry per row (FactorEntries: columns, then values).
        _diagonal = Enumerable.Range(0, 32).Concat(Enumerable.Range(0, 32).Select(_ => random.Next(1, 8))).ToArray();
        _convZeroTerms = new int[32];
        _convZScale = Enumerable.Range(0, 32).Select(_ => (float)(random.NextDouble() * 0.1 + 0.01)).ToArray();

        // Remap maps as the quantizer builds them, on the segmenter's and MobileNet's sizes: nearest ×2 upsampling of
        // 32×28×28, a 1-pixel constant Pad of it, a transpose of 96×196 (channels first to last).
        _remapX = Bytes(random, 32 * 28 * 28);
        _remapY = new byte[32 * 56 * 56];
        _upsample = new int[32 * 56 * 56];
        for (int c = 0; c < 32; c++)
            for (int h = 0; h < 56; h++)
                for (int w = 0; w < 56; w++)
                    _upsample[(c * 56 + h) * 56 + w] = (c * 28 + h / 2) * 28 + w / 2;
        _pad = new int[32 * 30 * 30];
        for (int c = 0; c < 32; c++)
            for (int h = 0; h < 30; h++)
                for (int w = 0; w < 30; w++)
                    _pad[(c * 30 + h) * 30 + w] = h is 0 or 29 || w is 0 or 29 ? -1 : (c * 28 + h - 1) * 28 + w - 1;
        _transpose = new int[96 * 196];
        for (int c = 0; c < 96; c++)
            for (int p = 0; p < 196; p++)
                _transpose[p * 96 + c] = c * 196 + p;

        // Float layers: attention's 64×64 · 64×64 MatMul, an elementwise Add of 4096, a melspectrogram-style Conv1d
        // (one channel, kernel 512, stride 160, 64 filters over a quarter second).
        _fa = Enumerable.Range(0, 4096).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _fb = Enumerable.Range(0, 4096).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _fy = new float[4096];
        _audio = Enumerable.Range(0, 4000).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _stft = Enumerable.Range(0, 64 * 512).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _stftOut = new float[64 * 22];

        // Float layers of a segmentation head, each over 32×28×28 (the Remap sizes above): ×2 nearest and bilinear
        // Resize (half_pixel), a 1-pixel Pad, GlobalMaxPool, ConvTranspose 32 → 16 (2×2 stride 2, and 3×3 stride 1);
        // a fully connected Gemm with B transposed (PyTorch's Linear: 1×784 by 128×784); Pow by 2 of 4096.
        _planes = Enumerable.Range(0, 32 * 28 * 28).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _upsampled = new float[32 * 56 * 56];
        _fcWeightsFloat = Enumerable.Range(0, 128 * 784).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        _deconvWeights = Enumerable.Range(0, 32 * 16 * 9).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        int[] strides = [28 * 28 * 32, 28 * 28, 28, 1], inSizes = [1, 32, 28, 28], outSizes = [1, 32, 56, 56];
        _resizeStart = new int[4];
        var nearestLo = new List<int>();
        var linearLo = new List<int>();
        var linearHi = new List<int>();
        var linearBits = new List<int>();
        for (int d = 0; d < 4; d++)
        {
            _resizeStart[d] = nearestLo.Count;
            for (int o = 0; o < outSizes[d]; o++)
            {
                double scale = (double)outSizes[d] / inSizes[d], c = Math.Max(0, Math.Min(inSizes[d] - 1, (o + 0.5) / scale - 0.5));
                int i0 = (int)Math.Floor(c), i1 = Math.Min(i0 + 1, inSizes[d] - 1);
                long bits = BitConverter.DoubleToInt64Bits(c - i0);
                nearestLo.Add((int)(o / scale) * strides[d]);
                linearLo.Add(i0 * strides[d]);
                linearHi.Add(i1 * strides[d]);
                linearBits.Add((int)bits);
                linearBits.Add((int)(bits >> 32));
            }
        }
        _nearestLo = [.. nearestLo];
        _nearestBits = new int[linearBits.Count];
        _linearLo = [.. linearLo];
        _linearHi = [.. linearHi];
        _linearBits = [.. linearBits];
    }

    [Benchmark(Description = "Remap nearest x2 32x28x28")]
    public void RemapUpsample() => Kernels.Remap(_remapX, _remapY, _upsample, 0);

    [Benchmark(Description = "Remap pad 1 32x28x28")]
    public void RemapPad() => Kernels.Remap(_remapX, _remapY.AsSpan(0, _pad.Length), _pad, 7);

    [Benchmark(Description = "Remap transpose 96x196")]
    public void RemapTranspose() => Kernels.Remap(_remapX, _remapY.AsSpan(0, _transpose.Length), _transpose, 0);

    [Benchmark(Description = "Float MatMul 64x64x64")]
    public void FloatMatMul() => FloatKernels.MatMul(_fa, _fb, _fy, [0], [0], 64, 64, 64);

    [Benchmark(Description = "Float Add 4096")]
    public void FloatAdd() => FloatKernels.Binary(_fa, _fb, _fy, [4096], [1], [1], 0);

    [Benchmark(Description = "Float Exp 4096")]
    public void FloatExp() => FloatKernels.Unary(_fa, _fy, 3, 0f, 0f);

    [Benchmark(Description = "Float Sigmoid 4096")]
    public void FloatSigmoid() => FloatKernels.Unary(_fa, _fy, 1, 0f, 0f);

    [Benchmark(Description = "Float Softmax 4096")]
    public void FloatSoftmax() => FloatKernels.Softmax(_fa, _fy, 1, 4096, 1);

    [Benchmark(Description = "Float Conv1d 1->64 k512 s160 x4000")]
    public void FloatConv1d() =>
        FloatKernels.Conv(_audio, _stft, default, _stftOut, 1, 1, 1, 4000, 64, 1, 22, 1, 512, 1, 160, 0, 0, 1, 1, 1);

    [Benchmark(Description = "Float Pow by 2 4096")]
    public void FloatSquare() => FloatKernels.Binary(_fa, [2f], _fy, [4096], [1], [0], 4);

    [Benchmark(Description = "Float GlobalMaxPool 32x28x28")]
    public void FloatGlobalMaxPool() => FloatKernels.GlobalPool(_planes, _fy, 32, 28 * 28, 1);

    [Benchmark(Description = "Float Gemm transB 1x784 by 128x784")]
    public void FloatGemmTransposed() => FloatKernels.Gemm(_planes, _fcWeightsFloat, default, _fy, [0, 0], 1, 784, 128, 0, 1, 1f, 1f);

    [Benchmark(Description = "Float Resize nearest x2 32x28x28")]
    public void FloatResizeNearest() => FloatKernels.Resize(_planes, _upsampled, [1, 32, 56, 56], _resizeStart, _nearestLo, _nearestLo, _nearestBits);

    [Benchmark(Description = "Float Resize linear x2 32x28x28")]
    public void FloatResizeLinear() => FloatKernels.Resize(_planes, _upsampled, [1, 32, 56, 56], _resizeStart, _linearLo, _linearHi, _linearBits);

    [Benchmark(Description = "Float Pad 1 32x28x28")]
    public void FloatPad() => FloatKernels.Pad(_planes, _upsampled.AsSpan(0, 32 * 30 * 30), [1, 32, 28, 28], [1, 32, 30, 30], [0, 0, 1, 1], 0, 0f);

    [Benchmark(Description = "Float ConvTranspose 2x2 s2 32x28x28 -> 16")]
    public void FloatConvTransposeStride2() =>
        FloatKernels.ConvTranspose(_planes, _deconvWeights, default, _upsampled.AsSpan(0, 16 * 56 * 56), 1, 32, 28, 28, 16, 56, 56, 2, 2, 2, 2, 0, 0, 1, 1, 1);

    [Benchmark(Description = "Float ConvTranspose 3x3 s1 32x28x28 -> 16")]
    public void FloatConvTransposeStride1() =>
        FloatKernels.ConvTranspose(_planes, _deconvWeights, default, _upsampled.AsSpan(0, 16 * 28 * 28), 1, 32, 28, 28, 16, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1);

    [GlobalCleanup]
    public void Cleanup() => Kernels.SimdEnabled = true;

    [Benchmark(Description = "Conv 3x3 NHWC 14x14x16 -> 32")]
    public void Conv3x3() => Run(_conv3x3);

    [Benchmark(Description = "Pointwise NHWC 14x14x24 -> 96")]
    public void Pointwise() => Run(_pointwise);

    [Benchmark(Description = "Depthwise 3x3 NHWC 14x14x96")]
    public void Depthwise() => RunDepthwise(_depthwise);

    [Benchmark(Description = "Depthwise 3x3 NHWC 14x14x72")]
    public void DepthwiseTail() => RunDepthwise(_depthwiseTail);

    private void RunDepthwise(Conv d) =>
        Kernels.DepthwiseConvNhwc(d.X, d.W, d.Bias, d.Scale, d.Scale, default, d.Y, _col,
            1, d.C, d.Side, d.Side, d.Out, d.Out, d.K, d.K, 1, 1, d.Pad, d.Pad, 1, 1, 3, 5, 0, 255);

    [Benchmark(Description = "FullyConnected 784 -> 128")]
    public void FullyConnected() =>
        Kernels.FullyConnectedPacked(_fcInput, _fcWeights, _fcBias, _fcScale, _fcScale, default, _fcOutput, _col, _acc, 1, 784, 128, 5, 0, 255);

    [Benchmark(Description = "Requantize 128 channels")]
    public void Requantize() =>
        Kernels.RequantizeChannels(_acc, _fcBias, _fcScale, _fcScale, default, _requantized, 0, 1, 5, 0, 255);

    [Benchmark(Description = "Factorized pointwise NHWC 14x14x24 -> 96 (A = W, B permutation)")]
    public void FactorizedPointwise()
    {
        var f = _factorized;
        Kernels.FactorizedConvNhwc(f.X, default, f.BEntries, f.ZeroTerms, f.ZScale, f.A, default, f.Bias, f.Scale, f.Scale, default,
            f.Y, _col, _acc, 1, f.C, f.Side, f.Side, f.M, f.Side, f.Side, 1, 1, 1, 1, 0, 0, 1, 1, f.C, 3, 5, 0, 255);
    }

    [Benchmark(Description = "Factorized 3x3 NHWC 14x14x16 -> 32 (B = W, A diagonal)")]
    public void FactorizedConv3x3()
    {
        var c = _conv3x3;
        Kernels.FactorizedConvNhwc(c.X, c.W, default, _convZeroTerms, _convZScale, default, _diagonal, c.Bias, c.Scale, c.Scale, default,
            c.Y, _col, _acc, 1, c.C, c.Side, c.Side, c.M, c.Out, c.Out, c.K, c.K, 1, 1, c.Pad, c.Pad, 1, 1, 32, 3, 5, 0, 255);
    }

    private void Run(Conv c) =>
        Kernels.ConvNhwc(c.X, c.W, c.Bias, c.Scale, c.Scale, default, c.Y, _col, _acc,
            1, c.C, c.Side, c.Side, c.M, c.Out, c.Out, c.K, c.K, 1, 1, c.Pad, c.Pad, 1, 1, 1, 3, 5, 0, 255);

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static sbyte[] Weights(Random random, int count) => Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
}
