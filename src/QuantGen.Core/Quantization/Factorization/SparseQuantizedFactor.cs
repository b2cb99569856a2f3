namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// One factor of W ≈ A·B: a [rows, cols] matrix with exactly <see cref="NonZerosPerRow"/> stored entries per row
/// (the rest are zero) whose values are grid indices on a symmetric narrow <see cref="Bits"/>-bit grid, one scale
/// per row. A fixed count per row keeps the storage free of row pointers (docs/artifact.md).
/// </summary>
internal sealed class SparseQuantizedFactor
{
    /// <summary>Clipping ratios tried per row: the row's scale is the one with the least squared error (MSE range setting).</summary>
    private static readonly float[] ClipRatios = [1f, 0.9f, 0.8f, 0.7f, 0.6f];

    private SparseQuantizedFactor(int rows, int cols, int nonZerosPerRow, int bits, int[] levels, float[] scales, int[] columns)
    {
        Rows = rows;
        Cols = cols;
        NonZerosPerRow = nonZerosPerRow;
        Bits = bits;
        Levels = levels;
        Scales = scales;
        Columns = columns;
    }

    public int Rows { get; }

    public int Cols { get; }

    public int NonZerosPerRow { get; }

    public int Bits { get; }

    /// <summary>Grid indices of the stored entries, [rows, NonZerosPerRow], each row's entries in ascending column order.</summary>
    public int[] Levels { get; }

    /// <summary>Column of each stored entry, parallel to <see cref="Levels"/>.</summary>
    public int[] Columns { get; }

    /// <summary>Step of each row's grid (real = level · scale).</summary>
    public float[] Scales { get; }

    /// <summary>True when every entry is stored: the storage needs no column indices.</summary>
    public bool IsDense => NonZerosPerRow == Cols;

    /// <summary>
    /// The projection of PGD: keep each row's <paramref name="nonZerosPerRow"/> largest magnitudes (ties to the lower
    /// column), then round them onto the row's grid (scale by MSE over a few clipping ratios, round half to even).
    /// </summary>
    public static SparseQuantizedFactor Project(float[] values, int rows, int cols, int nonZerosPerRow, int bits)
    {
        if (nonZerosPerRow < 1 || nonZerosPerRow > cols) throw new ArgumentOutOfRangeException(nameof(nonZerosPerRow));
        int level = WeightQuantizer.MaxLevel(bits);
        var levels = new int[rows * nonZerosPerRow];
        var columns = new int[rows * nonZerosPerRow];
        var scales = new float[rows];
        var order = new int[cols];
        var magnitudes = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * cols, cols);
            int[] kept;
            if (nonZerosPerRow == cols) kept = Enumerable.Range(0, cols).ToArray();
            else
            {
                for (int j = 0; j < cols; j++) { order[j] = j; magnitudes[j] = -MathF.Abs(row[j]); }
                // Stable sort by descending magnitude: equal magnitudes keep the lower column first.
                Array.Sort(magnitudes, order);
                StableTies(magnitudes, order);
                kept = order[..nonZerosPerRow];
                Array.Sort(kept);
            }
            float max = 0;
            foreach (int j in kept) max = MathF.Max(max, MathF.Abs(row[j]));
            float bestScale = max == 0 ? 1 : max / level;
            if (max > 0)
            {
                double bestError = double.PositiveInfinity;
                foreach (float ratio in ClipRatios)
                {
                    float scale = max * ratio / level;
                    double error = 0;
                    foreach (int j in kept)
                    {
                        double d = row[j] - Round(row[j], scale, level) * scale;
                        error += d * d;
                    }
                    if (error < bestError) { bestError = error; bestScale = scale; }
                }
            }
            scales[r] = bestScale;
            for (int s = 0; s < nonZerosPerRow; s++)
            {
                columns[r * nonZerosPerRow + s] = kept[s];
                levels[r * nonZerosPerRow + s] = Round(row[kept[s]], bestScale, level);
            }
        }
        return new SparseQuantizedFactor(rows, cols, nonZerosPerRow, bits, levels, scales, columns);
    }

    /// <summary>A factor from stored parts (the simulator's reading of an artifact; tests).</summary>
    public static SparseQuantizedFactor FromParts(int rows, int cols, int nonZerosPerRow, int bits, int[] levels, int[] columns, float[] scales) =>
        new(rows, cols, nonZerosPerRow, bits, levels, scales, columns);

    /// <summary>The dense real matrix [rows, cols] the factor stands for.</summary>
    public float[] Dequantize()
    {
        var dense = new float[Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int s = 0; s < NonZerosPerRow; s++)
            {
                int i = r * NonZerosPerRow + s;
                dense[r * Cols + Columns[i]] = Levels[i] * Scales[r];
            }
        return dense;
    }

    /// <summary>The dense grid indices [rows, cols] (zeros off the support).</summary>
    public int[] DenseLevels()
    {
        var dense = new int[Rows * Cols];
        for (int i = 0; i < Levels.Length; i++) dense[i / NonZerosPerRow * Cols + Columns[i]] = Levels[i];
        return dense;
    }

    private static int Round(float v, float scale, int level) => (int)Math.Clamp(Math.Round(v / scale, MidpointRounding.ToEven), -level, level);

    /// <summary>Array.Sort is not stable: within runs of equal keys, order the columns ascending.</summary>
    private static void StableTies(float[] keys, int[] order)
    {
        int start = 0;
        for (int i = 1; i <= keys.Length; i++)
            if (i == keys.Length || keys[i] != keys[start])
            {
                if (i - start > 1) Array.Sort(order, start, i - start);
                start = i;
            }
    }
}
