using QuantGen.Core.Ir;
using QuantGen.Core.Passes;

namespace QuantGen.Core.Quantization;

/// <summary>The float graph the quantizer works on: a copy of the model with shapes resolved at the build batch size and constants folded.</summary>
internal static class QuantizationPreparation
{
    public static Model Prepare(Model model, int batchSize, ResourceBudget? budget = null) =>
        ModelPreparation.Prepare(model, new ShapeOptions { BatchSize = batchSize, Budget = budget ?? ResourceBudget.Default });
}
