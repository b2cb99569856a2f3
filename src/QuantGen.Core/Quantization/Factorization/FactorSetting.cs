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
        PackedBytes((long)Rank * NonZerosB, Bits) + IndexBytes(Rank, k, NonZerosB)
        + PackedBytes((long)m * NonZerosA, Bits) + IndexBytes(m, Rank, NonZerosA)
        + 8L * Rank;

    public static long PackedBytes(long values, int bits) => (values * bits + 7) / 8;

    /// <summary>Bytes per column index of a factor with <paramref name="cols"/> columns.</summary>
    public static int IndexWidth(int cols) => cols <= 256 ? 1 : 2;

    private static long IndexBytes(int rows, int cols, int nonZeros) => nonZeros == cols ? 0 : (long)rows * nonZeros * IndexWidth(cols);

    /// <summary>
    /// A plain layer in factorized form: rank min(M, K) with one entry per row in the factor on the thin side, which
    /// is then a scaled permutation (the fit starts it at the identity), so the other factor is W itself on the
    /// b-bit grid. It gives a layer whose rank cannot be cut (a 10-output classifier) 2- to 4-bit weights.
    /// </summary>
    public bool IsPlain(int m, int k) =>
        m <= k ? Rank == m && NonZerosA == 1 : Rank == k && NonZerosB == 1;

    /// <summary>The plain setting of an [M, K] layer at <paramref name="bits"/> bits.</summary>
    public static FactorSetting Plain(int m, int k, int bits) =>
        m <= k ? new FactorSetting(m, k, 1, bits) : new FactorSetting(k, 1, k, bits);

    /// <summary>"rank 32, B 50% kept, A dense, 4-bit", or "plain 3-bit (B = W, A diagonal)".</summary>
    public string Describe(int m, int k) =>
        IsPlain(m, k) ? $"plain {Bits}-bit ({(m <= k ? "B = W, A diagonal" : "A = W, B diagonal")})"
        : $"rank {Rank}, B {Percent(NonZerosB, k)}, A {Percent(NonZerosA, Rank)}, {Bits}-bit";

    private static string Percent(int nonZeros, int cols) => nonZeros == cols ? "dense" : $"{100.0 * nonZeros / cols:F0}% kept";
}
