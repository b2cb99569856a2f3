using System.IO.Compression;

namespace QuantGen.Tests.Data;

/// <summary>Fashion-MNIST from Debian's dataset-fashion-mnist: idx files, pixels scaled to [0, 1] as the test models expect.</summary>
internal static class FashionMnist
{
    public const int Pixels = 28 * 28;

    private static readonly Lazy<(float[] Images, byte[] Labels)> Test = new(() => Load("t10k"));

    /// <summary>The 10k test images, [N·784] float, and their labels.</summary>
    public static (float[] Images, byte[] Labels) TestSet => Test.Value;

    /// <summary>The first <paramref name="count"/> training images, [count·784] float, without labels (fine-tuning is label-free).</summary>
    public static float[] TrainingImages(int count)
    {
        var bytes = ReadIdx(Path.Combine(TestPaths.FashionMnist, "train-images-idx3-ubyte.gz"), 2051, 16);
        return Array.ConvertAll(bytes[..(count * Pixels)], b => b / 255f);
    }

    private static (float[], byte[]) Load(string prefix)
    {
        var images = ReadIdx(Path.Combine(TestPaths.FashionMnist, $"{prefix}-images-idx3-ubyte.gz"), 2051, 16);
        var labels = ReadIdx(Path.Combine(TestPaths.FashionMnist, $"{prefix}-labels-idx1-ubyte.gz"), 2049, 8);
        Assert.Equal(labels.Length * Pixels, images.Length);
        return (Array.ConvertAll(images, b => b / 255f), labels);
    }

    private static byte[] ReadIdx(string path, int magic, int headerBytes)
    {
        Assert.True(File.Exists(path), $"{path} is missing: run tests/setup.sh (apt-get install dataset-fashion-mnist).");
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gz.CopyTo(buffer);
        var bytes = buffer.ToArray();
        int found = bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3];
        Assert.Equal(magic, found);
        return bytes[headerBytes..];
    }
}
