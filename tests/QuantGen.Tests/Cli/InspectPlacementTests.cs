using System.Globalization;
using System.Text.RegularExpressions;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using QuantGen.Tests.RealModels;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>
/// quantgen inspect's parameter count (initializers and Constant nodes) and node placement (quantized, float, folded,
/// unsupported), checked against what the ONNX protobuf itself holds.
/// </summary>
public sealed partial class InspectPlacementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-inspect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Models => EdgeModelTests.Models;

    [Theory]
    [MemberData(nameof(Models))]
    public void InspectCountsParametersInInitializersAndConstantNodes(string name)
    {
        var graph = EdgeModelTests.Proto(name);
        long initializers = graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        var constants = graph.Node.Where(n => n.OpType == "Constant").ToList();
        long inConstants = constants.Sum(n => n.Attribute.Single(a => a.Name == "value").T.Dims.Aggregate(1L, (a, d) => a * d));
        if (name == "fashion_mobilenetv3_constants")
        {
            Assert.Equal(0, initializers);
            Assert.True(inConstants > 20_000, $"{inConstants} values in Constant nodes");
        }

        var (code, text, err) = Quantgen(ExtraArgs(name).Prepend(RealModelPaths.Fashion(name)).Prepend("inspect").ToArray());
        Assert.True(code == 0, err + text);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"params    {initializers + inConstants:N0}: {initializers:N0} in {graph.Initializer.Count} initializers, {inConstants:N0} in {constants.Count} Constant nodes"), text);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void InspectPlacesEveryNodeOnce(string name)
    {
        var graph = EdgeModelTests.Proto(name);
        Assert.All(graph.Node, n => Assert.NotEmpty(n.Name));
        var (code, text, err) = Quantgen(ExtraArgs(name).Prepend(RealModelPaths.Fashion(name)).Prepend("inspect").ToArray());
        Assert.True(code == 0, err + text);
        var placement = ParsePlacement(text);

        Assert.Equal(graph.Node.Select(n => n.Name).Order(StringComparer.Ordinal), placement.Values.SelectMany(v => v).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("unsupported", text);
        // Every Constant node is folded into an initializer while preparing the graph, and so is every Shape node (and
        // what computes from it: the transformer's reshape sizes) once the input shapes are fixed.
        var folded = placement.GetValueOrDefault("folded", []).ToHashSet();
        Assert.All(graph.Node.Where(n => n.OpType is "Constant" or "Shape"), n => Assert.Contains(n.Name, folded));
        // Every 2-D Conv (4-D weights, from an initializer or a Constant node) and every Gemm runs in an integer layer.
        var weightRanks = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.Count);
        foreach (var c in graph.Node.Where(n => n.OpType == "Constant"))
            weightRanks[c.Output[0]] = c.Attribute.Single(a => a.Name == "value").T.Dims.Count;
        var integer = graph.Node.Where(n => n.OpType == "Gemm" || (n.OpType == "Conv" && weightRanks[n.Input[1]] == 4)).Select(n => n.Name).ToList();
        // fashion_audio1d has only 1-D convolutions (3-D weights).
        Assert.Equal(name == "fashion_audio1d", integer.Count == 0);
        Assert.All(integer, n => Assert.Contains(n, placement["quantized"]));
    }

    [Fact]
    public void InspectListsAFloatNodeBetweenQuantizedOnes()
    {
        // x [1, 2, 4, 4] → Conv → Log → Conv → y: Log has no integer layer, the two Convs have.
        var path = Path.Combine(_dir, "log.onnx");
        File.WriteAllBytes(path, ModelBuilder.Relu(m =>
        {
            var g = m.Graph;
            g.Input[0] = ModelBuilder.Value("x", 1, 2, 4, 4);
            g.Output[0] = ModelBuilder.Value("y", 1, 2, 4, 4);
            g.Node.Clear();
            g.Node.Add(new NodeProto { Name = "first", OpType = "Conv", Input = { "x", "w" }, Output = { "a" } });
            g.Node.Add(new NodeProto { Name = "logarithm", OpType = "Log", Input = { "a" }, Output = { "b" } });
            g.Node.Add(new NodeProto { Name = "second", OpType = "Conv", Input = { "b", "w" }, Output = { "y" } });
            g.Initializer.Add(ModelBuilder.FloatTensor("w", [2, 2, 1, 1], [1, 0, 0, 1]));
        }));
        var (code, text, err) = Quantgen("inspect", path);
        Assert.True(code == 0, err + text);
        var placement = ParsePlacement(text);
        Assert.Equal(["first", "second"], placement["quantized"].Order(StringComparer.Ordinal));
        Assert.Equal(["logarithm"], placement["float"]);

        var classified = NodeClassifier.Classify(OnnxModelLoader.Load(path), new ShapeOptions());
        Assert.Equal([NodePlacement.Quantized, NodePlacement.Float, NodePlacement.Quantized], classified.Select(c => c.Placement));
        Assert.Equal("Conv", classified[0].LayerKind);
    }

    [Fact]
    public void DataMovementReadOnlyByFloatLayersIsPlacedWithThem()
    {
        // The attention island: proj → Transpose 'qt' → the float Q·Qᵀ MatMul; proj is also read by the quantized Concat.
        var (model, _) = QuantGen.Tests.Generator.FloatIslandTests.Island("attention");
        var classified = NodeClassifier.Classify(model, new ShapeOptions());
        var qt = Assert.Single(classified, c => c.NodeName == "qt");
        Assert.Equal(NodePlacement.Float, qt.Placement);
        Assert.Equal("Float.Transpose", qt.LayerKind);
        Assert.StartsWith("data movement moved with its float readers", qt.Reason, StringComparison.Ordinal);
        Assert.Equal(NodePlacement.Quantized, Assert.Single(classified, c => c.NodeName == "proj").Placement);
    }

    [Fact]
    public void UnsupportedNodesAreNamedAndTheRestLeftUnclassified()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.WakeWord("hey_jarvis_v0.1"));
        var classified = NodeClassifier.Classify(model, new ShapeOptions());
        var unsupported = model.Graph.Nodes.Where(n => !QuantGen.Core.Operators.OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)).Select(n => n.Name).ToList();
        Assert.NotEmpty(unsupported);
        Assert.Equal(unsupported, classified.Where(c => c.Placement == NodePlacement.Unsupported).Select(c => c.NodeName));
        Assert.All(classified.Where(c => c.Placement == NodePlacement.Unsupported), c => Assert.StartsWith("QG0003", c.Reason));
        Assert.All(classified.Where(c => c.Placement != NodePlacement.Unsupported), c => Assert.Equal(NodePlacement.Unclassified, c.Placement));
    }

    [Fact]
    public void AQdqModelIsClassifiedAsTheFloatModelItDescribes()
    {
        // fashion_cnn_qat: QuantizeLinear/DequantizeLinear around Conv, Relu, MaxPool, Gemm; all of it builds as integer layers.
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn_qat"));
        var classified = NodeClassifier.Classify(model, new ShapeOptions());
        Assert.DoesNotContain(classified, c => c.OpType is "QuantizeLinear" or "DequantizeLinear");
        Assert.Contains(classified, c => c.OpType == "Conv");
        Assert.All(classified.Where(c => c.Placement != NodePlacement.Folded), c => Assert.Equal(NodePlacement.Quantized, c.Placement));

        // inspect says the same, and does not call the Q/DQ nodes unsupported.
        var (code, text, err) = Quantgen("inspect", RealModelPaths.Fashion("fashion_cnn_qat"));
        Assert.True(code == 0, err + text);
        Assert.DoesNotContain("unsupported", text);
        var proto = EdgeModelTests.Proto("fashion_cnn_qat");
        Assert.Equal(proto.Node.Where(n => n.OpType is "Conv" or "Gemm").Select(n => n.Name).Order(StringComparer.Ordinal),
            ParsePlacement(text)["quantized"].Where(n => proto.Node.Single(p => p.Name == n).OpType is "Conv" or "Gemm").Order(StringComparer.Ordinal));
    }

    /// <summary>Sizes for the symbolic dims besides the batch: fashion_mobilenetv3_constants's height and width, fashion_audio1d's steps.</summary>
    private static IEnumerable<string> ExtraArgs(string name) => name switch
    {
        "fashion_mobilenetv3_constants" => ["--input-shape", "1,1,28,28"],
        "fashion_audio1d" => ["--dim", "steps=28"],
        _ => [],
    };

    /// <summary>The "placement" section of inspect's output: node names by placement (quantized, float, folded).</summary>
    private static Dictionary<string, List<string>> ParsePlacement(string text)
    {
        var lines = text.Replace("\r", "").Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("placement", StringComparison.Ordinal));
        Assert.True(start >= 0, text);
        var result = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in lines.Skip(start + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)))
        {
            if (Header().Match(line) is { Success: true } header)
            {
                result[header.Groups[1].Value] = current = [];
                if (int.Parse(header.Groups[2].Value, CultureInfo.InvariantCulture) == 0) continue;
            }
            else if (Group().Match(line) is { Success: true } group)
            {
                var names = group.Groups[3].Value.Split(", ");
                Assert.Equal(int.Parse(group.Groups[2].Value, CultureInfo.InvariantCulture), names.Length);
                current!.AddRange(names);
            }
        }
        foreach (var (placement, names) in result)
        {
            var count = Regex.Match(text, $@"^  {placement} \((\d+) nodes\)", RegexOptions.Multiline);
            Assert.Equal(int.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture), names.Count);
        }
        return result.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value);
    }

    [GeneratedRegex(@"^  (\w+) \((\d+) nodes\)")]
    private static partial Regex Header();

    [GeneratedRegex(@"^    (\S+)\s+(\d+): (.*)$")]
    private static partial Regex Group();
}
