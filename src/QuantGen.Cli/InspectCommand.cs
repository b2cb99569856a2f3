using System.CommandLine;
using System.Globalization;
using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;

namespace QuantGen.Cli;

/// <summary>
/// quantgen inspect MODEL: inputs, outputs, shapes, op histogram, parameters (initializers and Constant nodes), and
/// where a quantized build runs each node (quantized, float, unsupported: <see cref="NodeClassifier"/>).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output)
    {
        var model = CommonOptions.Model();
        var batch = CommonOptions.Batch();
        var dims = CommonOptions.Dims();
        var inputShapes = CommonOptions.InputShapes();
        var command = new Command("inspect", "Describe a model: inputs, outputs, inferred shapes, operators, parameters.") { model, batch, dims, inputShapes };
        var budget = new CommonOptions.BudgetOptions();
        budget.AddTo(command);
        command.SetAction(result => Inspect(result.GetRequiredValue(model),
            CommonOptions.Shapes(result.GetValue(batch), result.GetValue(dims), result.GetValue(inputShapes)) with { Budget = budget.Read(result) }, output));
        return command;
    }

    private static int Inspect(string path, ShapeOptions shapes, TextWriter output)
    {
        var model = OnnxModelLoader.Load(path, shapes.Budget);
        var graph = model.Graph;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"model     {path}");
        output.WriteLine($"producer  {(model.ProducerName.Length > 0 ? $"{model.ProducerName} {model.ProducerVersion}".Trim() : "(none)")}, IR version {model.IrVersion}, opset {model.Opset}");
        long parameters = graph.Initializers.Values.Sum(t => (long)t.Length);
        var constants = graph.Nodes.Where(n => n.OpType == "Constant" && OperatorRegistry.IsDefaultDomain(n.Domain)).ToList();
        long constantParameters = constants.Sum(ConstantElements);
        output.WriteLine(string.Create(inv, $"params    {parameters + constantParameters:N0}: {parameters:N0} in {graph.Initializers.Count} initializers, {constantParameters:N0} in {constants.Count} Constant nodes"));

        var unsupported = graph.Nodes.Where(n => !OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)).Select(n => (n.OpType, n.Name)).ToList();
        Model? prepared = null;
        string? shapeProblem = null;
        IReadOnlyList<NodeClassification>? placements = null;
        try
        {
            placements = NodeClassifier.Classify(model, shapes);
            // The classifier's unsupported nodes are the ones that count: a QDQ model's QuantizeLinear/DequantizeLinear
            // are no operator of the executor, but disappear into the imported quantization.
            unsupported = placements.Where(p => p.Placement == NodePlacement.Unsupported).Select(p => (p.OpType, p.NodeName)).ToList();
            if (graph.Nodes.All(n => OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)))
                prepared = ModelPreparation.Prepare(model, shapes);
        }
        catch (ModelException e)
        {
            shapeProblem = e.ToString();
        }

        output.WriteLine("inputs");
        foreach (var input in graph.Inputs)
            output.WriteLine($"  {input}{Inferred(prepared, input.Name)}");
        output.WriteLine("outputs");
        foreach (var o in graph.Outputs)
            output.WriteLine($"  {o}{Inferred(prepared, o.Name)}");

        output.WriteLine($"operators ({graph.Nodes.Count} nodes{(prepared is null ? "" : $", {prepared.Graph.Nodes.Count} after constant folding")})");
        foreach (var group in graph.Nodes.GroupBy(n => (n.Domain, n.OpType)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.OpType, StringComparer.Ordinal))
        {
            var name = group.Key.Domain.Length > 0 ? $"{group.Key.Domain}.{group.Key.OpType}" : group.Key.OpType;
            output.WriteLine(string.Create(inv, $"  {name,-24} {group.Count(),5}"));
        }

        if (placements is not null && unsupported.Count == 0)
        {
            output.WriteLine("placement (where a quantized build runs each node)");
            WritePlacement(output, placements, NodePlacement.Quantized, "quantized", "in integer layers, or fused into one");
            WritePlacement(output, placements, NodePlacement.Float, "float", "the reference executor runs them; no quantized layer does");
            WritePlacement(output, placements, NodePlacement.Folded, "folded", "constants and shape computations, computed once while preparing the graph");
        }

        if (unsupported.Count > 0)
        {
            output.WriteLine("unsupported operators");
            foreach (var group in unsupported.GroupBy(n => n.OpType))
                output.WriteLine($"  {group.Key}: {string.Join(", ", group.Select(n => n.Name))}");
        }
        if (shapeProblem is not null)
            output.WriteLine($"shape inference failed: {shapeProblem}");
        return unsupported.Count > 0 || shapeProblem is not null ? 1 : 0;
    }

    /// <summary>One placement: its node count, then one line per op type (and reason) naming the nodes.</summary>
    private static void WritePlacement(TextWriter output, IReadOnlyList<NodeClassification> placements, NodePlacement placement, string title, string meaning)
    {
        var nodes = placements.Where(p => p.Placement == placement).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {title} ({nodes.Count} nodes): {meaning}"));
        foreach (var group in nodes.GroupBy(p => (p.OpType, p.Reason)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.OpType, StringComparer.Ordinal))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {group.Key.OpType,-22} {group.Count(),5}: {string.Join(", ", group.Select(p => p.NodeName))}"));
            if (group.Key.Reason is { } reason) output.WriteLine($"      {reason}");
        }
    }

    /// <summary>The elements a Constant node holds: its tensor, or its value_floats/value_ints list, or one scalar.</summary>
    private static long ConstantElements(Node node) =>
        node.GetTensor("value") is { } tensor ? tensor.Length
        : node.GetFloats("value_floats") is { } floats ? floats.Length
        : node.GetInts("value_ints") is { } ints ? ints.Length
        : node.HasAttribute("value_float") || node.HasAttribute("value_int") ? 1
        : 0;

    private static string Inferred(Model? prepared, string name) =>
        prepared is not null && prepared.Graph.ValueInfos.TryGetValue(name, out var info) ? $"  ->  {info}" : "";
}
