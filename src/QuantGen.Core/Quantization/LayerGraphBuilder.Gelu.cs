using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// GELU written out by exporters (tanh form <c>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>, erf form
/// <c>0.5·x·(1 + erf(x/√2))</c>, in any order of the primitive ops) recognised as one Lookup layer: the nodes form a
/// pointwise function of one tensor, so a 256-entry table of it is exact by construction.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    private static readonly string[] PointwiseOps = ["Add", "Sub", "Mul", "Div", "Pow", "Tanh", "Erf"];

    /// <summary>Position of each node in the graph (the region may only take nodes not yet built).</summary>
    private Dictionary<Node, int>? _order;

    /// <summary>
    /// The largest set of not-yet-built nodes starting at <paramref name="first"/> that are Add/Sub/Mul/Div/Pow/Tanh/Erf
    /// of one computed tensor x (the other operands one-element constants, every output x's shape), with one value
    /// read outside the set. When it holds a Tanh or Erf and computes GELU (either form, checked at 2001 points of
    /// [−10, 10] against the textbook formula), a Lookup layer of the set's own function, evaluated in double with the
    /// model's constants; else null (a near miss, e.g. another constant, stays the nodes it is).
    /// </summary>
    private FloatLayer? TryGelu(Node first)
    {
        if (Array.IndexOf(PointwiseOps, first.OpType) < 0 || first.Outputs.Count != 1) return null;
        var computed = first.Inputs.Where(i => i.Length > 0 && !IsConstant(i)).Distinct().ToArray();
        if (computed.Length != 1) return null;
        var x = computed[0];
        _order ??= _graph.Nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        int start = _order[first];
        var region = new List<Node>();
        var values = new HashSet<string>(StringComparer.Ordinal) { x };
        bool grown = true;
        while (grown)
        {
            grown = false;
            foreach (var value in values.ToArray())
            {
                if (!_consumers.TryGetValue(value, out var readers)) continue;
                foreach (var node in readers)
                {
                    if (region.Contains(node) || _fused.Contains(node) || _order[node] < start || !IsPointwiseOf(node, values, x)) continue;
                    region.Add(node);
                    values.Add(node.Outputs[0]);
                    grown = true;
                }
            }
        }
        if (!region.Contains(first) || !region.Any(n => n.OpType is "Tanh" or "Erf")) return null;
        var inside = region.ToHashSet();
        var exits = region.Select(n => n.Outputs[0])
            .Where(v => _graphOutputs.Contains(v) || (_consumers.TryGetValue(v, out var readers) && readers.Any(r => !inside.Contains(r)))).ToArray();
        if (exits.Length != 1 || !_consumers.ContainsKey(exits[0]) && !_graphOutputs.Contains(exits[0])) return null;
        var y = exits[0];
        // Every value of the set must feed the exit (no dead branch computing something else).
        region.Sort((a, b) => _order[a].CompareTo(_order[b]));
        var constants = region.SelectMany(n => n.Inputs).Where(IsConstant).Distinct().ToDictionary(c => c, c => (double)_graph.Initializers[c].ToFloatArray()[0], StringComparer.Ordinal);
        var nodes = region.ToArray();
        double Evaluate(double v) => EvaluatePointwise(nodes, constants, x, y, v);
        string? name = null;
        if (Matches(Evaluate, GeluTanh)) name = "GELU (tanh)";
        else if (Matches(Evaluate, GeluErf)) name = "GELU (erf)";
        if (name is null || region.Any(n => KeepsApart(n.Outputs[0], y) && n.Outputs[0] != y)) return null;
        var layer = NewLayer(LayerKinds.Lookup, first, [Resolve(x)]);
        layer.Function = new LookupFunction(name, Evaluate);
        foreach (var node in nodes.Where(n => n != first))
        {
            _fused.Add(node);
            _absorbed.Add(node);
            layer.Nodes.Add(node.Name);
        }
        foreach (var node in nodes.Where(n => n.Outputs[0] != y)) layer.FusedValues.Add(node.Outputs[0]);
        layer.Output = y;
        return layer;
    }

    /// <summary>A pointwise op whose computed inputs are all in <paramref name="values"/>, other inputs one-element float constants, output x's shape.</summary>
    private bool IsPointwiseOf(Node node, HashSet<string> values, string x)
    {
        if (Array.IndexOf(PointwiseOps, node.OpType) < 0 || node.Outputs.Count != 1) return false;
        int arity = node.OpType is "Tanh" or "Erf" ? 1 : 2;
        if (node.Inputs.Count != arity || !SameShape(node.Outputs[0], x)) return false;
        foreach (var input in node.Inputs)
        {
            if (IsConstant(input)) { if (_graph.Initializers[input].Length != 1 || _graph.Initializers[input].DataType != DataType.Float) return false; }
            else if (!values.Contains(input)) return false;
        }
        return true;
    }

    /// <summary>The region's output <paramref name="y"/> for x = <paramref name="v"/>, every op in double.</summary>
    private static double EvaluatePointwise(Node[] nodes, Dictionary<string, double> constants, string x, string y, double v)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal) { [x] = v };
        double Read(string name) => constants.TryGetValue(name, out var c) ? c : values[name];
        foreach (var node in nodes)
        {
            double a = Read(node.Inputs[0]), b = node.Inputs.Count > 1 ? Read(node.Inputs[1]) : 0;
            values[node.Outputs[0]] = node.OpType switch
            {
                "Add" => a + b,
                "Sub" => a - b,
                "Mul" => a * b,
                "Div" => a / b,
                "Pow" => Math.Pow(a, b),
                "Tanh" => Math.Tanh(a),
                _ => Operators.ErfFunction.Erf(a),
            };
        }
        return values[y];
    }

    private static bool Matches(Func<double, double> f, Func<double, double> reference)
    {
        for (int i = -1000; i <= 1000; i++)
        {
            double v = i / 100.0, expected = reference(v), actual = f(v);
            if (!(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)))) return false;
        }
        return true;
    }

    private static double GeluTanh(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

    private static double GeluErf(double v) => 0.5 * v * (1 + Operators.ErfFunction.Erf(v / Math.Sqrt(2)));
}
