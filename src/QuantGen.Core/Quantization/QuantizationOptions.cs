namespace QuantGen.Core.Quantization;

/// <summary>What the user asked for on the QuantModel item (or the CLI), validated.</summary>
public sealed record QuantizationOptions
{
    /// <summary>Weight bit-width, 2 to 8. Weights are symmetric per output channel on the narrow grid ±(2^(b−1) − 1).</summary>
    public int WeightBits { get; init; } = 8;

    /// <summary>Activation bit-width. Format version 1 stores activations as u8, so 8 is the only value yet.</summary>
    public int ActivationBits { get; init; } = 8;

    /// <summary>Batch size the symbolic batch dimension resolves to in the generated class.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>How many calibration samples go through the float model at once (memory/speed trade only).</summary>
    public int CalibrationBatch { get; init; } = 32;

    /// <summary>Largest number of calibration samples used (the first N of the file).</summary>
    public int MaxCalibrationSamples { get; init; } = 512;

    /// <summary>Checks ranges; a bad value is a <see cref="ModelException"/> naming the option.</summary>
    public void Validate()
    {
        if (WeightBits is < 2 or > 8)
            throw new ModelException(ErrorCodes.InvalidOption, $"WeightBits={WeightBits} is not supported: use 2 to 8.");
        if (ActivationBits != 8)
            throw new ModelException(ErrorCodes.InvalidOption, $"ActivationBits={ActivationBits} is not supported yet: use 8.");
        if (BatchSize is < 1 or > 4096)
            throw new ModelException(ErrorCodes.InvalidOption, $"BatchSize={BatchSize} is out of range 1..4096.");
        if (CalibrationBatch < 1 || MaxCalibrationSamples < 1)
            throw new ModelException(ErrorCodes.InvalidOption, "Calibration batch and sample count must be positive.");
    }
}
