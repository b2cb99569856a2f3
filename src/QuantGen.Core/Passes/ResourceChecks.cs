using QuantGen.Core.Ir;

namespace QuantGen.Core.Passes;

/// <summary>
/// The model-wide parts of the <see cref="ResourceBudget"/> (QG0041): node and parameter counts before shape
/// inference, and after it the float activation memory the reference executor holds at its widest point (the
/// executor's own release rule replayed on the inferred shapes, so no tensor is allocated to find out).
/// </summary>
public static class ResourceChecks
{
    public static void BeforeInference(Model model, ResourceBudget budget)
    {
        var graph = model.Graph;
        if (graph.Nodes.Count > budget.MaxNodes)
            throw ResourceBudget.Exceeded($"The graph has {graph.Nodes.Count} nodes, over the budget of {budget.MaxNodes}", "MaxNodes", "--max-nodes");
        long parameters = 0;
        foreach (var tensor in graph.Initializers.Values) parameters += tensor.Length;
        if (parameters > budget.MaxParameters)
            throw ResourceBudget.Exceeded($"The model has {parameters} parameters, over the budget of {budget.MaxParameters}", "MaxParameters", "--max-parameters");
    }

    /// <summary>Largest number of activation bytes live at once when <see cref="Execution.ReferenceExecutor"/> runs the prepared graph.</summary>
    public static long PeakActivationBytes(Model model)
    {
        var graph = model.Graph;
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var input in graph.Nodes[i].Inputs)
                if (input.Length > 0) lastUse[input] = i;
        foreach (var output in graph.Outputs) lastUse[output.Name] = int.MaxValue;

        // A type the IR does not support (a declared input the executor will refuse) counts as 8 bytes an element:
        // the estimate stays an upper bound and this check never throws anything but QG0041 (fuzzing found it did).
        long Bytes(string name) => graph.ValueInfos.TryGetValue(name, out var info)
            ? (long)info.ElementCount * (DataTypes.IsSupported(info.DataType) ? DataTypes.SizeOf(info.DataType) : 8) : 0;
        long live = 0;
        foreach (var input in graph.Inputs) live += Bytes(input.Name);
        long peak = live;
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            foreach (var name in node.Outputs)
                if (name.Length > 0 && !graph.Initializers.ContainsKey(name)) live += Bytes(name);
            peak = Math.Max(peak, live);
            foreach (var name in node.Inputs.Distinct())
                if (name.Length > 0 && lastUse.TryGetValue(name, out int last) && last == i && !graph.Initializers.ContainsKey(name))
                    live -= Bytes(name);
        }
        return peak;
    }

    public static void ActivationPeak(Model model, ResourceBudget budget)
    {
        long peak = PeakActivationBytes(model);
        if (peak > budget.MaxActivationBytes)
            throw ResourceBudget.Exceeded($"Running the graph holds {peak} bytes of activations at once, over the budget of {budget.MaxActivationBytes}", "MaxActivationBytes", "--max-activation-bytes");
    }
}
