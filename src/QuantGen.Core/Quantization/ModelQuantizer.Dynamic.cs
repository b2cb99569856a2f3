namespace QuantGen.Core.Quantization;

/// <summary>A dynamically quantized model (QdqImport.Dynamic.cs): its options.</summary>
public static partial class ModelQuantizer
{
    /// <summary>
    /// A dynamically quantized model keeps its integer weights and is calibrated for its activations: options that set
    /// activation ranges apply (Calibration, InputRange, RangeMethod), options that would rescale, re-round or correct
    /// the model's weights are refused (the passes would run on QuantGen's own rounding of them).
    /// </summary>
    private static void CheckDynamicOptions(QuantizationOptions options, string? path)
    {
        string? conflict =
            options.Algorithms is { } a && a != QuantizationAlgorithms.None
                ? $"Algorithms=\"{QuantizationOptions.Format(a)}\" (the passes rescale, re-round or correct for weights other than the model's integers)"
            : options.WeightBits != 8 ? $"WeightBits={options.WeightBits} (the weights are the model's integers)"
            : options.IsMixedPrecision ? "SizeBudget/AverageWeightBits (the weights are the model's integers)"
            : options.FirstLayerWeightBits is not null || options.LastLayerWeightBits is not null ? "FirstLayerWeightBits/LastLayerWeightBits (the weights are the model's integers)"
            : options.ActivationBits != 8 ? $"ActivationBits={options.ActivationBits} (the model's integer products take 8-bit activations)"
            : options.Compression != Factorization.WeightCompression.None ? "Compression=\"factorized\""
            : null;
        if (conflict is not null)
            throw new ModelException(ErrorCodes.InvalidOption,
                $"This model is quantized dynamically (DynamicQuantizeLinear): QuantGen compiles it with its own integer weights and calibrates the activations, so {conflict} cannot apply. Remove the option (docs/interop.md, \"Dynamic quantization\").", path);
    }
}
