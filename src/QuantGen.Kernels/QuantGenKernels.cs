// QuantGen kernels: settings shared by every kernel (SIMD switches, threads), scalar requantization and the bounds checks.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    /// <summary>Integer kernels shared by the QuantGen models of this assembly (docs/artifact.md gives their exact semantics).</summary>
    internal static partial class QuantGenKernels
    {
        /// <summary>round(acc · multiplier · 2^−shift) + zero, half toward +∞, clamped to [min, max].</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static byte Requantize(int acc, int multiplier, int shift, int zero, int min, int max)
        {
            long v = ((acc * (long)multiplier + (1L << (shift - 1))) >> shift) + zero;
            return (byte)(v < min ? min : v > max ? max : v);
        }

        /// <summary>
        /// 8-bit Conv and FullyConnected layers: clamp(round_half_even(float(acc) · scale) + zero, min, max), each step in
        /// float32, clamped before the rounding (docs/artifact.md). The product has its own cast so that a runtime that
        /// keeps floats in wider registers still rounds it to float32 (an exact double product rounds the same way).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static byte RequantizeScaled(int acc, float scale, int zero, int min, int max)
        {
            float v = (float)((float)acc * scale);
            float low = min - zero, high = max - zero;
            if (v < low) v = low;
            else if (v > high) v = high;
            return (byte)((int)global::System.Math.Round(v) + zero);
        }

        /// <summary>
        /// When false, every kernel takes its scalar loop even where a SIMD path is supported: the benchmark's "scalar"
        /// job and the SIMD-vs-scalar tests set it. Every path gives the same int32 accumulators and bytes.
        /// </summary>
        public static bool SimdEnabled { get; set; } = true;

        /// <summary>
        /// When false, the dot products skip AVX-VNNI for the generic AVX2 path (vpmaddwd), as on an x86 CPU without
        /// VNNI: the tests use it to prove that path bit-exact on a machine that has VNNI.
        /// </summary>
        public static bool VnniEnabled { get; set; } = true;

        /// <summary>
        /// Threads for the large layers (1, the default: everything on the calling thread). Only layers the generator
        /// marked large (group-1 convolutions of at least 2^24 multiply-accumulates, where handing work to another
        /// thread costs less than it saves) split their output channels into this many parts, on the thread pool;
        /// every other layer, and any layer on the scalar path, runs on the calling thread. Results are the same bytes
        /// either way. A split layer allocates its task bookkeeping per call (a few hundred bytes); at 1, nothing.
        /// </summary>
        public static int Threads { get; set; } = 1;

        /// <summary>Runs part(model, i, parts) for i in [0, parts): on the thread pool and the calling thread when more than one.</summary>
        public static void RunParts<TModel>(TModel model, global::System.Action<TModel, int, int> part, int parts)
        {
            if (parts <= 1) part(model, 0, 1);
            else RunPartsInParallel(model, part, parts);
        }

        /// <summary>
        /// RunParts' thread-pool side, a method of its own: a lambda's captured parameters are allocated where the
        /// method begins, so in RunParts itself even the one-part call would allocate.
        /// </summary>
        private static void RunPartsInParallel<TModel>(TModel model, global::System.Action<TModel, int, int> part, int parts) =>
            global::System.Threading.Tasks.Parallel.For(0, parts, i => part(model, i, parts));

        /// <summary>
        /// The one bounds check of a windowed kernel, made once per call before its loops (docs/security.md): the
        /// geometry the generator validated must hold for the spans actually passed, in 64-bit, so that no index the
        /// kernel computes in int (and reads through Unsafe.Add on the SIMD paths) can wrap or leave x and y.
        /// </summary>
        internal static void CheckWindow(int xLength, int yLength, int n, int c, int h, int width, int m, int oh, int ow,
            int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            if (n < 1 || c < 1 || h < 1 || width < 1 || m < 1 || oh < 1 || ow < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1
                || dh < 1 || dw < 1 || padTop < 0 || padLeft < 0
                || (long)n * c * h * width > xLength || (long)n * m * oh * ow > yLength
                || (long)(oh - 1) * sh + (long)(kh - 1) * dh + sh + padTop >= int.MaxValue
                || (long)(ow - 1) * sw + (long)(kw - 1) * dw + sw + padLeft >= int.MaxValue)
                throw Outside();
        }

        /// <summary>A dense kernel's check: <paramref name="rows"/> rows of k inputs and m outputs fit x and y.</summary>
        internal static void CheckRows(int xLength, int yLength, int rows, int k, int m)
        {
            if (rows < 0 || k < 1 || m < 1 || (long)rows * k > xLength || (long)rows * m > yLength) throw Outside();
        }

        internal static global::System.ArgumentOutOfRangeException Outside() =>
            new global::System.ArgumentOutOfRangeException("geometry", "QuantGen kernel called with a geometry its buffers do not hold.");
    }
}
