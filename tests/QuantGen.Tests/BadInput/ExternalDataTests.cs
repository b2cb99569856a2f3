using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;

namespace QuantGen.Tests.BadInput;

/// <summary>External tensor data loads from files beside the model and never from outside its folder.</summary>
public sealed class ExternalDataTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("quantgen-ext-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>x + w, with w [4] stored externally at <paramref name="location"/>.</summary>
    private string ModelWithExternal(string folder, string location, long offset = 0)
    {
        var dir = Path.Combine(_root, folder);
        Directory.CreateDirectory(dir);
        var bytes = ModelBuilder.Relu(m =>
        {
            var w = new TensorProto { Name = "w", DataType = 1, Dims = { 4 }, DataLocation = TensorProto.Types.DataLocation.External };
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "16" });
            m.Graph.Initializer.Add(w);
            m.Graph.Node[0].OpType = "Add";
            m.Graph.Node[0].Input.Add("w");
        });
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void LoadsDataBesideTheModel()
    {
        var path = ModelWithExternal("ok", "weights.bin", offset: 8);
        File.WriteAllBytes(Path.Combine(_root, "ok", "weights.bin"), [.. new byte[8], .. Floats(1, 2, 3, 4)]);
        var model = OnnxModelLoader.Load(path);
        var y = new ReferenceExecutor(model).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 4], new float[] { 10, 20, 30, 40 }) })["y"];
        Assert.Equal([11f, 22f, 33f, 44f], y.ToArray<float>());
    }

    [Fact]
    public void LoadsDataInASubfolder()
    {
        var path = ModelWithExternal("sub", "data/weights.bin");
        Directory.CreateDirectory(Path.Combine(_root, "sub", "data"));
        File.WriteAllBytes(Path.Combine(_root, "sub", "data", "weights.bin"), Floats(1, 2, 3, 4));
        Assert.Equal(4, OnnxModelLoader.Load(path).Graph.Initializers["w"].Length);
    }

    [Fact]
    public void RefusesParentFolderEscape()
    {
        File.WriteAllBytes(Path.Combine(_root, "secret.bin"), Floats(1, 2, 3, 4));
        var path = ModelWithExternal("escape", "../secret.bin");
        AssertExternalError(path, "outside");
    }

    [Fact]
    public void RefusesAbsolutePath()
    {
        File.WriteAllBytes(Path.Combine(_root, "abs.bin"), Floats(1, 2, 3, 4));
        var path = ModelWithExternal("absolute", Path.Combine(_root, "abs.bin"));
        AssertExternalError(path, "relative");
    }

    [Fact]
    public void RefusesSymlinkOut()
    {
        File.WriteAllBytes(Path.Combine(_root, "target.bin"), Floats(1, 2, 3, 4));
        var path = ModelWithExternal("link", "weights.bin");
        File.CreateSymbolicLink(Path.Combine(_root, "link", "weights.bin"), Path.Combine(_root, "target.bin"));
        AssertExternalError(path, "link");
    }

    [Fact]
    public void RefusesMissingAndShortFiles()
    {
        AssertExternalError(ModelWithExternal("missing", "nothing.bin"), "does not exist");
        var path = ModelWithExternal("short", "weights.bin", offset: 8);
        File.WriteAllBytes(Path.Combine(_root, "short", "weights.bin"), Floats(1, 2, 3, 4));
        AssertExternalError(path, "too short");
    }

    private static void AssertExternalError(string path, string words)
    {
        var e = Assert.Throws<ModelException>(() => OnnxModelLoader.Load(path));
        Assert.Equal(ErrorCodes.ExternalData, e.Code);
        Assert.Equal(path, e.ModelPath);
        Assert.Contains(words, e.Message);
    }
}
