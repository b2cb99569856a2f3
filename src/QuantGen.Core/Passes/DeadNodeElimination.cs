using QuantGen.Core.Ir;

namespace QuantGen.Core.Passes;

/// <summary>Removes nodes none of whose outputs reach a graph output, then initializers nothing reads.</summary>
public static class DeadNodeElimination
{
    public static void Run(Graph graph)
    {
        var live = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var kept = new List<Node>();
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (!node.Outputs.Any(live.Contains)) continue;
            kept.Add(node);
            foreach (var input in node.Inputs)
                if (input.Length > 0) live.Add(input);
        }
        kept.Reverse();
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        foreach (var name in graph.Initializers.Keys.Where(k => !live.Contains(k)).ToList())
        {
            graph.Initializers.Remove(name);
            graph.ValueInfos.Remove(name);
        }
    }
}
