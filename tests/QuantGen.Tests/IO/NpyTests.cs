using System.Diagnostics;
using QuantGen.Core;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;

namespace QuantGen.Tests.IO;

public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs Debian's python3 + numpy to make a fixture, so the reader is checked against numpy itself.</summary>
    private string NumPy(string name, string expression, string save = "np.save")
    {
        var path = Path.Combine(_dir, name);
        var script = $"import numpy as np; {save}('{path}', {expression})";
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", script]) { RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
        return path;
    }

    [Fact]
    public void ReadsNumPyFloat32()
    {
        var t = Npy.Read(NumPy("f.npy", "np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8"));
        Assert.Equal(DataType.Float, t.DataType);
        Assert.Equal([2, 3, 4], t.Shape);
        Assert.Equal(23 / 8f, t.AsSpan<float>()[23]);
    }

    [Fact]
    public void ReadsNumPyInt64AndUInt8AndScalars()
    {
        var i = Npy.Read(NumPy("i.npy", "np.array([-5, 1 << 40], dtype=np.int64)"));
        Assert.Equal([-5L, 1L << 40], i.ToArray<long>());
        var u = Npy.Read(NumPy("u.npy", "np.array([[0, 255]], dtype=np.uint8)"));
        Assert.Equal([1, 2], u.Shape);
        Assert.Equal([(byte)0, (byte)255], u.ToArray<byte>());
        var s = Npy.Read(NumPy("s.npy", "np.float32(2.5)"));
        Assert.Empty(s.Shape);
        Assert.Equal(2.5f, s.AsSpan<float>()[0]);
    }

    [Fact]
    public void ReadsFormatVersion2()
    {
        var path = NumPy("v2.npy", "np.ones((3, 2), dtype=np.float32)", save: "(lambda p, a: np.lib.format.write_array(open(p, 'wb'), a, version=(2, 0)))");
        Assert.Equal(2, File.ReadAllBytes(path)[6]);
        Assert.Equal([3, 2], Npy.Read(path).Shape);
    }

    [Fact]
    public void WrittenFilesLoadInNumPy()
    {
        var path = Path.Combine(_dir, "w.npy");
        Npy.Write(path, Tensor.FromArray([2, 2], new float[] { 1.5f, -2, 3, 4 }));
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", $"import numpy as np; a = np.load('{path}'); print(a.dtype, a.shape, a.sum())"]) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal("float32 (2, 2) 6.5", text);
        Assert.Equal(0, (10 + BitConverter.ToUInt16(File.ReadAllBytes(path), 8)) % 64);
    }

    [Fact]
    public void RoundTripsEveryType()
    {
        var tensors = new[]
        {
            Tensor.FromArray([3], new float[] { 1, float.NaN, -0f }),
            Tensor.FromArray([2, 1], new long[] { long.MinValue, 7 }),
            Tensor.FromArray([2], new sbyte[] { -128, 127 }),
            Tensor.FromArray([2], new double[] { Math.PI, -1 }),
            Tensor.FromArray([0, 3], Array.Empty<int>()),
        };
        foreach (var t in tensors)
        {
            var path = Path.Combine(_dir, "rt.npy");
            Npy.Write(path, t);
            var back = Npy.Read(path);
            Assert.Equal(t.DataType, back.DataType);
            Assert.Equal(t.Shape, back.Shape);
            Assert.Equal(File.ReadAllBytes(path), WriteAgain(back));
        }
    }

    private byte[] WriteAgain(Tensor t)
    {
        var path = Path.Combine(_dir, "again.npy");
        Npy.Write(path, t);
        return File.ReadAllBytes(path);
    }

    [Theory]
    [InlineData("np.asfortranarray(np.ones((2, 3), dtype=np.float32))", "Fortran")]
    [InlineData("np.ones(3, dtype='>f4')", "dtype")]
    [InlineData("np.ones(3, dtype=np.float16)", "dtype")]
    public void RefusesWhatItCannotRead(string expression, string words)
    {
        var e = Assert.Throws<ModelException>(() => Npy.Read(NumPy("bad.npy", expression)));
        Assert.Equal(ErrorCodes.BadTensorFile, e.Code);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void RefusesTruncatedAndGarbageFiles()
    {
        var good = File.ReadAllBytes(NumPy("g.npy", "np.ones((4, 4), dtype=np.float32)"));
        foreach (var cut in new[] { 0, 5, 9, 40, good.Length - 1 })
        {
            var path = Path.Combine(_dir, $"cut{cut}.npy");
            File.WriteAllBytes(path, good[..cut]);
            Assert.Equal(ErrorCodes.BadTensorFile, Assert.Throws<ModelException>(() => Npy.Read(path)).Code);
        }
        var huge = Path.Combine(_dir, "huge.npy");
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }".PadRight(117) + "\n";
        File.WriteAllBytes(huge, [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. System.Text.Encoding.ASCII.GetBytes(header)]);
        Assert.Equal(ErrorCodes.BadTensorFile, Assert.Throws<ModelException>(() => Npy.Read(huge)).Code);
    }
}
