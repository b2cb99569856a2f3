namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>One option of one layer: its cost (bytes or bits) and sensitivity at one candidate width.</summary>
internal readonly record struct LayerChoice(long Cost, double Sensitivity);

/// <summary>A Pareto-optimal assignment: total cost, total sensitivity, and the index of the choice taken per layer.</summary>
internal sealed record FrontierPoint(long Cost, double Sensitivity, int[] Choices);

/// <summary>
/// The exact Pareto frontier of Σ sensitivity against Σ cost over one choice per layer, by dynamic programming over
/// the layers: the frontier of the first l+1 layers is the non-dominated subset of (a point of the first l layers'
/// frontier + one choice of layer l), since a dominated prefix stays dominated whatever follows. Points are kept
/// sorted by cost with strictly falling sensitivity; ties keep the cheaper, then the earlier (deterministic).
/// </summary>
internal static class ParetoFrontier
{
    public static IReadOnlyList<FrontierPoint> Solve(IReadOnlyList<IReadOnlyList<LayerChoice>> layers)
    {
        // Each stage: (cost, sensitivity, parent index in the previous stage, choice).
        var stages = new List<(long Cost, double Sensitivity, int Parent, int Choice)[]>();
        var current = new[] { (Cost: 0L, Sensitivity: 0.0, Parent: -1, Choice: -1) };
        foreach (var choices in layers)
        {
            var merged = new List<(long Cost, double Sensitivity, int Parent, int Choice)>(current.Length * choices.Count);
            for (int p = 0; p < current.Length; p++)
                for (int c = 0; c < choices.Count; c++)
                    merged.Add((current[p].Cost + choices[c].Cost, current[p].Sensitivity + choices[c].Sensitivity, p, c));
            // OrderBy is stable: equal (cost, sensitivity) keep the merge order.
            var sorted = merged.OrderBy(m => m.Cost).ThenBy(m => m.Sensitivity).ToList();
            var kept = new List<(long Cost, double Sensitivity, int Parent, int Choice)>();
            foreach (var m in sorted)
                if (kept.Count == 0 || m.Sensitivity < kept[^1].Sensitivity) kept.Add(m);
            current = kept.ToArray();
            stages.Add(current);
        }
        var frontier = new List<FrontierPoint>(current.Length);
        for (int i = 0; i < current.Length; i++)
        {
            var picks = new int[layers.Count];
            int index = i;
            for (int l = layers.Count - 1; l >= 0; l--)
            {
                picks[l] = stages[l][index].Choice;
                index = stages[l][index].Parent;
            }
            frontier.Add(new FrontierPoint(current[i].Cost, current[i].Sensitivity, picks));
        }
        return frontier;
    }

    /// <summary>The least-sensitive point costing at most <paramref name="budget"/>, or null when even the cheapest costs more.</summary>
    public static FrontierPoint? Select(IReadOnlyList<FrontierPoint> frontier, long budget) =>
        frontier.LastOrDefault(p => p.Cost <= budget);
}
