using System.Diagnostics;
using Google.Protobuf;
using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.Passes;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;

namespace QuantGen.Tests.BadInput;

/// <summary>Every way a model file can be wrong gets its own QG code, the model path and, where a node is involved, the node.</summary>
public sealed class BadModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Load, prepare and build an executor: the whole front end a build runs.</summary>
    private static ModelException Fails(string path)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ModelException>(() =>
        {
            var model = OnnxModelLoader.Load(path);
            new ReferenceExecutor(ModelPreparation.Prepare(model));
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(path, e.ModelPath);
        return e;
    }

    [Fact]
    public void MissingFile() => Assert.Equal(ErrorCodes.FileNotFound, Fails(Path.Combine(_dir, "nope.onnx")).Code);

    [Fact]
    public void EmptyFile() => Assert.Equal(ErrorCodes.MalformedModel, Fails(Write("empty.onnx", [])).Code);

    [Fact]
    public void TruncatedModel()
    {
        var bytes = File.ReadAllBytes("/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx");
        for (int cut = 1; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 40))
        {
            var e = Fails(Write($"cut{cut}.onnx", bytes[..cut]));
            Assert.Contains(e.Code, new[] { ErrorCodes.MalformedModel, ErrorCodes.MissingValue, ErrorCodes.BadShape });
        }
    }

    [Fact]
    public void RandomBytes()
    {
        var random = new Random(11);
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            Assert.Equal(ErrorCodes.MalformedModel, Fails(Write($"random{i}.onnx", bytes)).Code);
        }
    }

    [Fact]
    public void NegativeDimension()
    {
        var path = Write("negative.onnx", ModelBuilder.Relu(m => m.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2, -3 } })));
        Assert.Equal(ErrorCodes.BadShape, Fails(path).Code);
    }

    [Fact]
    public void HugeTensorIsRefusedBeforeAllocation()
    {
        // 2^40 elements declared, 16 bytes of data: refused on the declared shape, no terabyte allocation.
        var path = Write("huge.onnx", ModelBuilder.Relu(m => m.Graph.Initializer.Add(new TensorProto
        {
            Name = "w",
            DataType = 1,
            Dims = { 1 << 20, 1 << 20 },
            RawData = ByteString.CopyFrom(new byte[16]),
        })));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(path);
        Assert.Equal(ErrorCodes.TensorTooLarge, e.Code);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20, "allocated more than 64 MiB");
    }

    [Fact]
    public void DataShorterThanShape()
    {
        var path = Write("short.onnx", ModelBuilder.Relu(m => m.Graph.Initializer.Add(new TensorProto
        {
            Name = "w",
            DataType = 1,
            Dims = { 4, 4 },
            RawData = ByteString.CopyFrom(new byte[12]),
        })));
        Assert.Equal(ErrorCodes.MalformedModel, Fails(path).Code);
    }

    [Fact]
    public void GraphCycle()
    {
        var path = Write("cycle.onnx", ModelBuilder.Relu(m =>
        {
            m.Graph.Node.Clear();
            m.Graph.Node.Add(new NodeProto { Name = "a", OpType = "Add", Input = { "x", "t2" }, Output = { "t1" } });
            m.Graph.Node.Add(new NodeProto { Name = "b", OpType = "Relu", Input = { "t1" }, Output = { "t2" } });
            m.Graph.Node.Add(new NodeProto { Name = "c", OpType = "Relu", Input = { "t2" }, Output = { "y" } });
        }));
        var e = Fails(path);
        Assert.Equal(ErrorCodes.GraphCycle, e.Code);
        Assert.Contains(e.NodeName, new[] { "a", "b", "c" });
    }

    [Fact]
    public void NodeReadingAMissingTensor()
    {
        var path = Write("missing.onnx", ModelBuilder.Relu(m => m.Graph.Node[0].Input[0] = "ghost"));
        var e = Fails(path);
        Assert.Equal(ErrorCodes.MissingValue, e.Code);
        Assert.Equal("relu_node", e.NodeName);
        Assert.Contains("ghost", e.Message);
    }

    [Fact]
    public void UnsupportedOperatorNamesOpAndNode()
    {
        var path = Write("unsupported.onnx", ModelBuilder.Relu(m => m.Graph.Node[0].OpType = "Einsum"));
        var e = Fails(path);
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal("relu_node", e.NodeName);
        Assert.Contains("Einsum", e.Message);
    }

    [Fact]
    public void CustomDomainIsUnsupported()
    {
        var path = Write("domain.onnx", ModelBuilder.Relu(m => m.Graph.Node[0].Domain = "com.microsoft"));
        Assert.Equal(ErrorCodes.UnsupportedOperator, Fails(path).Code);
    }

    [Fact]
    public void UnsupportedOpset()
    {
        var path = Write("opset.onnx", ModelBuilder.Relu(m => m.OpsetImport[0].Version = 99));
        Assert.Equal(ErrorCodes.UnsupportedOpset, Fails(path).Code);
    }

    [Fact]
    public void BadAttributeValueNamesTheNode()
    {
        var path = Write("attr.onnx", ModelBuilder.Relu(m =>
        {
            m.Graph.Node[0].OpType = "Softmax";
            m.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 7 });
        }));
        var e = Fails(path);
        Assert.Equal(ErrorCodes.InvalidAttribute, e.Code);
        Assert.Equal("relu_node", e.NodeName);
    }

    [Fact]
    public void MismatchedShapesNameTheNode()
    {
        var path = Write("shapes.onnx", ModelBuilder.Relu(m =>
        {
            m.Graph.Initializer.Add(ModelBuilder.FloatTensor("b", [3], [1, 2, 3]));
            m.Graph.Node[0].OpType = "Add";
            m.Graph.Node[0].Input.Add("b");
        }));
        var e = Fails(path);
        Assert.Equal(ErrorCodes.BadShape, e.Code);
        Assert.Equal("relu_node", e.NodeName);
    }

    [Fact]
    public void RandomMutationsOfARealModelNeverEscapeAsOtherExceptions()
    {
        var bytes = File.ReadAllBytes("/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx");
        var random = new Random(5);
        var clock = Stopwatch.StartNew();
        for (int trial = 0; trial < 300; trial++)
        {
            var mutated = (byte[])bytes.Clone();
            for (int flips = random.Next(1, 6); flips > 0; flips--) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            var path = Write("mutant.onnx", mutated);
            try
            {
                var model = OnnxModelLoader.Load(path);
                var prepared = ModelPreparation.Prepare(model);
                _ = new ReferenceExecutor(prepared);
            }
            catch (ModelException e)
            {
                Assert.StartsWith("QG", e.Code);
            }
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"300 mutants took {clock.Elapsed}");
    }
}
