using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
using QuantGen.Core.Passes;
using QuantGen.Onnx;

namespace QuantGen.Tests.Conformance;

/// <summary>One model of the ONNX backend test suite with its input/output data sets.</summary>
internal sealed record ConformanceCase(string Suite, string Name, string Directory)
{
    public string ModelPath => Path.Combine(Directory, "model.onnx");

    public override string ToString() => $"{Suite}/{Name}";
}

/// <summary>How a case ended.</summary>
internal enum CaseOutcome
{
    Passed,
    Failed,
    /// <summary>Uses an op outside the supported set: not run.</summary>
    UnsupportedOp,
    /// <summary>Uses an element type the IR does not model (string, float16, …): not run.</summary>
    UnsupportedType,
    /// <summary>A supported op refused an attribute value with QG0014 (e.g. Resize cubic): reported by name.</summary>
    Declined,
}

internal sealed record CaseResult(ConformanceCase Case, CaseOutcome Outcome, string[] OpTypes, string Detail);

/// <summary>Discovers and runs the suite from Debian's libonnx-testdata.</summary>
internal static class ConformanceSuite
{
    public static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator"];

    public static IEnumerable<ConformanceCase> Discover()
    {
        foreach (var suite in Suites)
        {
            var root = Path.Combine(TestPaths.OnnxTestData, suite);
            if (!System.IO.Directory.Exists(root)) continue;
            foreach (var dir in System.IO.Directory.GetDirectories(root).Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(dir, "model.onnx")))
                    yield return new ConformanceCase(suite, Path.GetFileName(dir), dir);
        }
    }

    /// <summary>Loads and runs one case against every data set in its folder.</summary>
    public static CaseResult Run(ConformanceCase c, double rtol = 1e-3, double atol = 1e-7)
    {
        Model model;
        try
        {
            model = OnnxModelLoader.Load(c.ModelPath);
        }
        catch (ModelException e) when (e.Code is ErrorCodes.UnsupportedDataType)
        {
            return new CaseResult(c, CaseOutcome.UnsupportedType, [], e.Message);
        }
        catch (Exception e)
        {
            return new CaseResult(c, CaseOutcome.Failed, [], "load: " + e.Message);
        }

        var ops = model.Graph.Nodes.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal).ToArray();
        var missing = model.Graph.Nodes.Where(n => !OperatorRegistry.Default.IsSupported(n.OpType, n.Domain))
            .Select(n => n.OpType).Distinct().ToArray();
        if (missing.Length > 0)
            return new CaseResult(c, CaseOutcome.UnsupportedOp, ops, string.Join(",", missing));
        if (model.Graph.Inputs.Concat(model.Graph.Outputs).FirstOrDefault(v => !DataTypes.IsSupported(v.DataType)) is { } odd)
            return new CaseResult(c, CaseOutcome.UnsupportedType, ops, $"{odd.Name} is {odd.DataType}");

        var dataSets = System.IO.Directory.GetDirectories(c.Directory, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
        if (dataSets.Length == 0)
            return new CaseResult(c, CaseOutcome.Failed, ops, "no test_data_set_* folder");
        try
        {
            var executor = new ReferenceExecutor(model);
            foreach (var set in dataSets)
            {
                var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                var inputFiles = System.IO.Directory.GetFiles(set, "input_*.pb").OrderBy(IndexOf).ToArray();
                for (int i = 0; i < inputFiles.Length && i < model.Graph.Inputs.Count; i++)
                {
                    var (name, tensor) = OnnxTensorFile.Read(inputFiles[i]);
                    inputs[string.IsNullOrEmpty(name) ? model.Graph.Inputs[i].Name : name] = tensor;
                }
                var outputs = executor.Run(inputs);
                // The same data through the prepared model checks static shape inference and constant folding.
                var (prepared, preparedInputs) = PrepareForStaticShapes(model, inputs);
                var preparedOutputs = new ReferenceExecutor(prepared).Run(preparedInputs);
                foreach (var (name, value) in outputs)
                {
                    if (!prepared.Graph.ValueInfos.TryGetValue(name, out var inferred) || !inferred.Shape.AsSpan().SequenceEqual(value.Shape))
                        return new CaseResult(c, CaseOutcome.Failed, ops, $"{Path.GetFileName(set)}/{name}: shape inference says {(prepared.Graph.ValueInfos.TryGetValue(name, out var i) ? i.ToString() : "nothing")}, execution gives {value}");
                    if (TensorComparison.Compare(value, preparedOutputs[name], 1e-6, 0) is { } drift)
                        return new CaseResult(c, CaseOutcome.Failed, ops, $"{Path.GetFileName(set)}/{name}: the prepared (folded) model differs: {drift}");
                }
                var outputFiles = System.IO.Directory.GetFiles(set, "output_*.pb").OrderBy(IndexOf).ToArray();
                for (int i = 0; i < outputFiles.Length; i++)
                {
                    var (name, expected) = OnnxTensorFile.Read(outputFiles[i]);
                    var outputName = string.IsNullOrEmpty(name) ? model.Graph.Outputs[i].Name : name;
                    if (!outputs.TryGetValue(outputName, out var actual))
                        return new CaseResult(c, CaseOutcome.Failed, ops, $"{Path.GetFileName(set)}: output '{outputName}' missing");
                    var mismatch = TensorComparison.Compare(expected, actual, rtol, atol);
                    if (mismatch is not null)
                        return new CaseResult(c, CaseOutcome.Failed, ops, $"{Path.GetFileName(set)}/{outputName}: {mismatch}");
                }
            }
            return new CaseResult(c, CaseOutcome.Passed, ops, "");
        }
        catch (ModelException e) when (e.Code is ErrorCodes.UnsupportedAttributeValue)
        {
            return new CaseResult(c, CaseOutcome.Declined, ops, $"{e.Code}: {e.Message}");
        }
        catch (ModelException e) when (e.Code is ErrorCodes.UnsupportedDataType)
        {
            return new CaseResult(c, CaseOutcome.UnsupportedType, ops, e.Message);
        }
        catch (Exception e)
        {
            return new CaseResult(c, CaseOutcome.Failed, ops, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Prepares the model with the test's input shapes. Cases that feed shape-determining values (Reshape's shape,
    /// Slice's starts, Resize's scales, Pad's pads) as graph inputs cannot be shaped statically; for those, every
    /// input after the first is bound as a constant, as a user would bake them into the model, and the check runs
    /// on what remains.
    /// </summary>
    private static (Model, Dictionary<string, Tensor>) PrepareForStaticShapes(Model model, Dictionary<string, Tensor> inputs)
    {
        try
        {
            return (ModelPreparation.Prepare(model, ShapeOptions.FromInputs(model, inputs)), inputs);
        }
        catch (ModelException e) when (e.Code == ErrorCodes.BadShape && e.Message.Contains("must be a constant", StringComparison.Ordinal))
        {
            var graph = model.Graph.Clone();
            var bound = graph.Inputs.Skip(1).Where(i => inputs.ContainsKey(i.Name)).ToList();
            foreach (var input in bound)
            {
                graph.Inputs.Remove(input);
                graph.Initializers[input.Name] = inputs[input.Name];
            }
            var rest = inputs.Where(kv => bound.All(b => b.Name != kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            var withConstants = new Model(graph, model.Opset, model.Path);
            return (ModelPreparation.Prepare(withConstants, ShapeOptions.FromInputs(withConstants, rest)), rest);
        }
    }

    private static int IndexOf(string file)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        return int.Parse(stem[(stem.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
