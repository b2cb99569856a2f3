using QuantGen.Core.Ir;
using QuantGen.Core.Passes;

namespace QuantGen.Core.Quantization;

/// <summary>The float graph the quantizer works on: a copy of the model with the input shapes resolved (batch size, named dims, whole shapes) and constants folded.</summary>
internal static class QuantizationPreparation
{
    public static Model Prepare(Model model, QuantizationOptions options) =>
        ModelPreparation.Prepare(model, new ShapeOptions
        {
            BatchSize = options.BatchSize,
            Dimensions = options.Dimensions,
            InputShapes = options.InputShapes,
            Budget = options.Budget,
        });
}
