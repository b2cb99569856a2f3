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
        try
        {
            TopologicalSort.Run(graph);
            ShapeInference.Run(copy, options ?? new ShapeOptions());
            DeadNodeElimination.Run(graph);
        }
        catch (ModelException e)
        {
            throw e.WithContext(model.Path);
        }
        return copy;
    }
}
