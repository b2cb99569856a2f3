using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Execution;

/// <summary>
/// Runs a graph in float with the reference operator implementations: the numeric ground truth for calibration
/// and every later check. Nodes must be in topological order (the importer guarantees it). Intermediate tensors
/// are released after their last use so peak memory stays near the widest cut of the graph.
/// </summary>
public sealed class ReferenceExecutor
{
    private readonly Model _model;
    private readonly OperatorRegistry _registry;
    private readonly Operator[] _operators;
    private readonly Dictionary<string, int> _lastUse;

    public ReferenceExecutor(Model model, OperatorRegistry? registry = null)
    {
        _model = model;
        _registry = registry ?? OperatorRegistry.Default;
        var graph = model.Graph;
        _operators = new Operator[graph.Nodes.Count];
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (!OperatorRegistry.IsDefaultDomain(node.Domain) || !_registry.TryGet(node.OpType, out var op))
                throw new ModelException(ErrorCodes.UnsupportedOperator,
                    $"Operator '{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}' is not supported.",
                    model.Path, node.Name);
            _operators[i] = op;
        }

        // Index of the last node reading each value; graph outputs are never released.
        _lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var input in graph.Nodes[i].Inputs)
                if (input.Length > 0) _lastUse[input] = i;
        foreach (var output in graph.Outputs) _lastUse[output.Name] = int.MaxValue;
    }

    /// <summary>
    /// Runs the graph. <paramref name="inputs"/> maps graph input names to tensors. <paramref name="observer"/>, when
    /// given, sees every node output as it is produced (calibration uses it to collect activation statistics).
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, Action<Node, string, Tensor>? observer = null)
    {
        var graph = _model.Graph;
        var values = new Dictionary<string, Tensor>(graph.Initializers, StringComparer.Ordinal);
        foreach (var declared in graph.Inputs)
        {
            if (!inputs.TryGetValue(declared.Name, out var tensor))
                throw new ModelException(ErrorCodes.BadInput, $"No value given for graph input '{declared.Name}'.", _model.Path);
            if (tensor.DataType != declared.DataType)
                throw new ModelException(ErrorCodes.BadInput,
                    $"Input '{declared.Name}' should be {DataTypes.Name(declared.DataType)}, got {DataTypes.Name(tensor.DataType)}.", _model.Path);
            values[declared.Name] = tensor;
        }

        var nodeInputs = new List<Tensor?>();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            nodeInputs.Clear();
            foreach (var name in node.Inputs)
            {
                if (name.Length == 0) { nodeInputs.Add(null); continue; }
                if (!values.TryGetValue(name, out var value))
                    throw new ModelException(ErrorCodes.MissingValue, $"Input '{name}' of {node.OpType} is not produced by any node.", _model.Path, node.Name);
                nodeInputs.Add(value);
            }

            Tensor[] outputs;
            try
            {
                outputs = _operators[i].Execute(new OpContext(node, _model.Opset) { Budget = _model.Budget }, nodeInputs);
            }
            catch (ModelException e)
            {
                throw e.WithContext(_model.Path, node.Name);
            }
            catch (OverflowException e)
            {
                throw new ModelException(ErrorCodes.ValueOutOfRange, $"{node.OpType}: a value of the node is outside the range QuantGen represents ({e.Message}).", _model.Path, node.Name, e);
            }

            for (int o = 0; o < node.Outputs.Count && o < outputs.Length; o++)
            {
                var name = node.Outputs[o];
                if (name.Length == 0) continue;
                values[name] = outputs[o];
                observer?.Invoke(node, name, outputs[o]);
            }

            foreach (var name in node.Inputs)
                if (name.Length > 0 && _lastUse.TryGetValue(name, out int last) && last == i && !graph.Initializers.ContainsKey(name))
                    values.Remove(name);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var output in graph.Outputs)
        {
            if (!values.TryGetValue(output.Name, out var tensor))
                throw new ModelException(ErrorCodes.MissingValue, $"Graph output '{output.Name}' is not produced by any node.", _model.Path);
            result[output.Name] = tensor;
        }
        return result;
    }
}
