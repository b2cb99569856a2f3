namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// One factorization of a [M, K] weight matrix: rank r, the stored entries per row of B [r, K] and of A [M, r], and
/// the factors' bit-width. <see cref="Bytes"/> is what the artifact and the generated class store for it.
/// </summary>
internal readonly record struct FactorSetting(int Rank, int NonZerosB, int NonZerosA, int Bits)
{
    /// <summary>
    /// Stored bytes: both factors' values bit-packed, their column indices (none when a factor is dense; one byte
    /// when the factor has at most 256 columns, else two), and B's per-row scale as an int32 multiplier and shift.
    /// A's per-row scale folds into the output multiplier every weighted layer has, so it is not counted (nor is
    /// the bias, multiplier and shift per output that a plain layer stores too).
    /// </summary>
    public long Bytes(int m, int k) =>
        IsPlain(m, k) ? PackedBytes((long)m * k, Bits)
        : PackedBytes((long)Rank * NonZerosB, Bits) + IndexBytes(Rank, k, NonZerosB)
        + PackedBytes((long)m * NonZerosA, Bits) + IndexBytes(m, Rank, NonZerosA)
        + 8L * Rank;

    public static long PackedBytes(long values, int bits) => (values * bits + 7) / 8;

    /// <summary>Bytes per column index of a factor with <paramref name="cols"/> columns.</summary>
    public static int IndexWidth(int cols) => cols <= 256 ? 1 : 2;

    private static long IndexBytes(int rows, int cols, int nonZeros) => nonZeros == cols ? 0 : (long)rows * nonZeros * IndexWidth(cols);

    /// <summary>
    /// A plain layer in factorized form: rank M, B = W itself on the b-bit grid and A one entry per row, a scaled
    /// permutation (the fit starts it at the identity). It gives a layer whose rank cannot be cut (a 10-output
    /// classifier) 2- to 4-bit weights. Chosen, it is not kept as factors: the planner makes the layer a plain one at b
    /// bits, which the calibrated passes quantize as any (AdaRound's rounding instead of the fit's), so its bytes are W's
    /// packed at b bits. The transposed form for M &gt; K (A = W, B a diagonal scaling of the input channels) was dropped:
    /// no plain kernel can scale input channels, and as factors it ran 5-6 times slower (docs/benchmarks.md).
    /// </summary>
    public bool IsPlain(int m, int k) => Rank == m && NonZerosA == 1 && NonZerosB == k;

    /// <summary>The plain setting of an [M, K] layer at <paramref name="bits"/> bits.</summary>
    public static FactorSetting Plain(int m, int k, int bits) => new(m, k, 1, bits);

    /// <summary>"rank 32, B 50% kept, A dense, 4-bit", or "plain 3-bit".</summary>
    public string Describe(int m, int k) =>
        IsPlain(m, k) ? $"plain {Bits}-bit"
        : $"rank {Rank}, B {Percent(NonZerosB, k)}, A {Percent(NonZerosA, Rank)}, {Bits}-bit";

    private static string Percent(int nonZeros, int cols) => nonZeros == cols ? "dense" : $"{100.0 * nonZeros / cols:F0}% kept";
}
