// QuantGen kernels: the helpers of the factorized layers (FactorizedFullyConnected, FactorizedConv), whose loops the
// generator specialises per layer (ModelPrinter.Factorized.cs) around these two calls.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>Field <paramref name="i"/> of a stream of bits-bit two's-complement values, least significant bit first, sign-extended.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static int FactorLevel(global::System.ReadOnlySpan<byte> packed, int i, int bits)
        {
            int bit = i * bits, at = bit >> 3, offset = bit & 7;
            int word = offset + bits > 8 ? packed[at] | packed[at + 1] << 8 : packed[at];
            return (word >> offset << (32 - bits)) >> (32 - bits);
        }

        /// <summary>round(t · multiplier · 2^−shift), half toward +∞, clamped to the int16 intermediate's symmetric range (±32767).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static int RequantizeIntermediate(int t, int multiplier, int shift)
        {
            long v = (t * (long)multiplier + (1L << (shift - 1))) >> shift;
            return v < -32767 ? -32767 : v > 32767 ? 32767 : (int)v;
        }
    }
}
