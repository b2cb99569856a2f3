using System.CommandLine;
using System.Globalization;
using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
using QuantGen.Core.Passes;
using QuantGen.Onnx;

namespace QuantGen.Cli;

/// <summary>quantgen inspect MODEL: inputs, outputs, shapes, op histogram, parameters, unsupported ops.</summary>
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
        output.WriteLine(string.Create(inv, $"params    {parameters:N0} in {graph.Initializers.Count} initializers"));

        var unsupported = graph.Nodes.Where(n => !OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)).ToList();
        Model? prepared = null;
        string? shapeProblem = null;
        if (unsupported.Count == 0)
        {
            try
            {
                prepared = ModelPreparation.Prepare(model, shapes);
            }
            catch (ModelException e)
            {
                shapeProblem = e.ToString();
            }
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

        if (unsupported.Count > 0)
        {
            output.WriteLine("unsupported operators");
            foreach (var group in unsupported.GroupBy(n => n.OpType))
                output.WriteLine($"  {group.Key}: {string.Join(", ", group.Select(n => n.Name))}");
            return 1;
        }
        if (shapeProblem is not null)
        {
            output.WriteLine($"shape inference failed: {shapeProblem}");
            return 1;
        }
        return 0;
    }

    private static string Inferred(Model? prepared, string name) =>
        prepared is not null && prepared.Graph.ValueInfos.TryGetValue(name, out var info) ? $"  ->  {info}" : "";
}
