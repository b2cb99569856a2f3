extern alias generator;
using QuantGen.Generated;
using RemapRows = generator::QuantGen.Generator.RemapRows;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Remap maps stored as row templates (generator RemapRows, kernel QuantGenKernels.RemapRows): the kernel rebuilds
/// every map exactly, the data-movement patterns shrink to what their structure needs (sizes worked out by hand
/// below), and a map with no row structure stays a plain array.
/// </summary>
public sealed class RemapRowsTests
{
    [Fact]
    public void ATransposeIsOneTemplateAndTwoIntsPerRow()
    {
        // [1, 16, 32] → [1, 32, 16]: output (j, i) reads input (i, j), so every row of 16 is 0, 32, …, 480 plus j.
        var map = new int[512];
        for (int j = 0; j < 32; j++)
            for (int i = 0; i < 16; i++)
                map[j * 16 + i] = i * 32 + j;
        var rows = RoundTrip(map, [1, 32, 16]);
        Assert.Equal(16, rows.RowLength);
        Assert.Equal(16 + 2 * 32, rows.Size);
    }

    [Fact]
    public void ANearestUpsamplingIsOneTemplateAndTwoIntsPerRow()
    {
        // [1, 2, 7, 7] → [1, 2, 14, 14], floor(h / 2), floor(w / 2): every row of 14 is 0, 0, 1, 1, …, 6, 6 plus its
        // source row's start. Rows of 196 would store 196 + 2 · 2 ints; rows of 14 store 14 + 2 · 28.
        var map = new int[2 * 14 * 14];
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 14; h++)
                for (int w = 0; w < 14; w++)
                    map[(c * 14 + h) * 14 + w] = c * 49 + h / 2 * 7 + w / 2;
        var rows = RoundTrip(map, [1, 2, 14, 14]);
        Assert.Equal(14, rows.RowLength);
        Assert.Equal(14 + 2 * 28, rows.Size);
    }

    [Fact]
    public void PaddingKeepsItsFillsAndSharesTheAllFillRow()
    {
        // [1, 4, 10, 10] padded by one on each side → [1, 4, 12, 12]: border rows are all fills (one template), inner
        // rows a fill, ten sources, a fill (another): 2 · 12 + 2 · 48 ints.
        var map = new int[4 * 12 * 12];
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 12; h++)
                for (int w = 0; w < 12; w++)
                    map[(c * 12 + h) * 12 + w] = h is 0 or 11 || w is 0 or 11 ? -1 : c * 100 + (h - 1) * 10 + (w - 1);
        var rows = RoundTrip(map, [1, 4, 12, 12]);
        Assert.Equal(12, rows.RowLength);
        Assert.Equal(2 * 12 + 2 * 48, rows.Size);
        Assert.Contains(int.MinValue, rows.Templates);
    }

    [Fact]
    public void AChannelsLastBroadcastUsesTheBufferShape()
    {
        // An [N, C, 1, 1] operand expanded to [1, 8, 5, 5] in a channels-last buffer [1, 5, 5, 8]: every pixel's 8
        // channels are 0, 1, …, 7. Rows of 8 store 8 + 2 · 25 ints; rows of one image row (5 pixels, 40 entries) store
        // 40 + 2 · 5, fewer.
        var map = new int[5 * 5 * 8];
        for (int p = 0; p < 25; p++)
            for (int c = 0; c < 8; c++)
                map[p * 8 + c] = c;
        var rows = RoundTrip(map, [1, 5, 5, 8]);
        Assert.Equal(40, rows.RowLength);
        Assert.Equal(40 + 2 * 5, rows.Size);
    }

    [Fact]
    public void AMapWithoutRowStructureStaysAnArray()
    {
        var random = new Random(7);
        var map = Enumerable.Range(0, 256).Select(_ => random.Next(-1, 1000)).ToArray();
        Assert.Null(RemapRows.Encode(map, [1, 4, 8, 8]));
        // Rows that repeat but whose encoding would not halve the map: a 3 × 3 image padded to 5 × 5.
        var padded = new int[25];
        for (int h = 0; h < 5; h++)
            for (int w = 0; w < 5; w++)
                padded[h * 5 + w] = h is 0 or 4 || w is 0 or 4 ? -1 : (h - 1) * 3 + (w - 1);
        Assert.Null(RemapRows.Encode(padded, [1, 1, 5, 5]));
    }

    [Fact]
    public void TheKernelRefusesMalformedRows()
    {
        Assert.Throws<ArgumentException>(() => QuantGenKernels.RemapRows([0, 1], [0, 0, 0], 2));
        Assert.Throws<ArgumentException>(() => QuantGenKernels.RemapRows([0, 1], [0, 0], 0));
    }

    /// <summary>Encodes the map, asserts the kernel rebuilds it entry for entry, and returns the encoding.</summary>
    private static RemapRows.Encoding RoundTrip(int[] map, int[] bufferShape)
    {
        var rows = RemapRows.Encode(map, bufferShape);
        Assert.NotNull(rows);
        Assert.Equal(map, QuantGenKernels.RemapRows(rows.Templates, rows.Rows, rows.RowLength));
        return rows;
    }
}
