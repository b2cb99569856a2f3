using QuantGen.Core.Ir;

namespace QuantGen.Core.Passes;

/// <summary>
/// Orders nodes so every node comes after the producers of its inputs (Kahn's algorithm, stable: ties keep the
/// file's order). Reports a node that reads a value nobody produces (QG0005) and graph cycles (QG0006).
/// </summary>
public static class TopologicalSort
{
    public static void Run(Graph graph)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var output in graph.Nodes[i].Outputs)
                if (output.Length > 0 && !producer.TryAdd(output, i))
                    throw new ModelException(ErrorCodes.MalformedModel, $"Value '{output}' is produced by more than one node.", nodeName: graph.Nodes[i].Name);

        var available = new HashSet<string>(graph.Initializers.Keys, StringComparer.Ordinal);
        foreach (var input in graph.Inputs) available.Add(input.Name);

        var pending = new int[graph.Nodes.Count];
        var consumers = new List<int>[graph.Nodes.Count];
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            consumers[i] = new List<int>();
        }
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            foreach (var input in node.Inputs.Distinct())
            {
                if (input.Length == 0 || available.Contains(input)) continue;
                if (!producer.TryGetValue(input, out int p))
                    throw new ModelException(ErrorCodes.MissingValue, $"{node.OpType} reads '{input}', which no node, input or initializer provides.", nodeName: node.Name);
                pending[i]++;
                consumers[p].Add(i);
            }
        }

        // A min-heap on the original index keeps the order stable and deterministic.
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < pending.Length; i++)
            if (pending[i] == 0) ready.Enqueue(i, i);
        var order = new List<Node>(graph.Nodes.Count);
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(graph.Nodes[i]);
            foreach (int c in consumers[i])
                if (--pending[c] == 0) ready.Enqueue(c, c);
        }

        if (order.Count != graph.Nodes.Count)
        {
            var stuck = graph.Nodes.Where((_, i) => pending[i] > 0).First();
            throw new ModelException(ErrorCodes.GraphCycle, $"The graph has a cycle through {stuck.OpType}.", nodeName: stuck.Name);
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(order);
    }
}
