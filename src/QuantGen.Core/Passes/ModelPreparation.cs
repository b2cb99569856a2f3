using QuantGen.Core.Ir;

namespace QuantGen.Core.Passes;

/// <summary>
/// The standard clean-up every later stage starts from: a copy of the model, topologically sorted, with concrete
/// shapes for every value, constants folded and dead nodes removed.
/// </summary>
public static class ModelPreparation
{
    public static Model Prepare(Model model, ShapeOptions? options = null)
    {
        var graph = model.Graph.Clone();
        var copy = new Model(graph, model.Opset, model.Path)
        {
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            IrVersion = model.IrVersion,
        };
        options ??= new ShapeOptions();
        copy.Budget = options.Budget;
        try
        {
            ResourceChecks.BeforeInference(copy, options.Budget);
            TopologicalSort.Run(graph);
            ShapeInference.Run(copy, options);
            DeadNodeElimination.Run(graph);
            ResourceChecks.ActivationPeak(copy, options.Budget);
        }
        catch (ModelException e)
        {
            throw e.WithContext(model.Path);
        }
        return copy;
    }
}
