using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>The fine-tuning options (Algorithms "finetune", docs/quantization.md "Gradients and fine-tuning").</summary>
public sealed partial record QuantizationOptions
{
    /// <summary>
    /// Unlabeled inputs for fine-tuning, in the calibration format (TrainingData, --training-data); null = the
    /// calibration data. The float model's outputs on them are the targets.
    /// </summary>
    public CalibrationSet? TrainingData { get; init; }

    /// <summary>TrainingData as files (FILE.npy, or NAME=FILE.npy per input), read when the model is (QG0096 for a bad one); <see cref="TrainingData"/> wins when both are set.</summary>
    public IReadOnlyList<string>? TrainingDataFiles { get; init; }

    /// <summary>Largest number of training samples used (the first N of the training data).</summary>
    public int MaxTrainingSamples { get; init; } = 8192;

    /// <summary>
    /// Samples held out of the training data to pick the best step by (the last N; at most an eighth of the data):
    /// the pass keeps the parameters of the step with the lowest held-out loss, the PTQ start included, so it never
    /// returns a model worse than it started from on data it did not train on.
    /// </summary>
    public int FineTuneValidationSamples { get; init; } = 256;

    /// <summary>How often (in steps) the held-out loss is measured and a loss-curve point is reported.</summary>
    public int FineTuneEvaluateEvery { get; init; } = 25;

    /// <summary>Learning rate of the weight scales and activation grids relative to <see cref="FineTuneLearningRate"/> (both in grid steps).</summary>
    public float FineTuneScaleLearningRate { get; init; } = 0.1f;

    /// <summary>Learning rate of the latent weights relative to <see cref="FineTuneLearningRate"/>; 0 freezes the PTQ rounding (only scales, grids and biases learn).</summary>
    public float FineTuneWeightLearningRate { get; init; } = 1f;

    /// <summary>
    /// The distillation loss: null = KL on the logits for a model ending in Softmax, MSE of the output otherwise;
    /// true = KL on the output as logits (a classifier whose ONNX output is the logits); false = MSE.
    /// </summary>
    public bool? FineTuneKullbackLeibler { get; init; }

    /// <summary>
    /// Distillation temperature of the KL loss on classifier logits (Hinton et al.): both distributions are
    /// softmax(z / T); null = <see cref="DefaultFineTuneTemperature"/>. Setting one with the MSE loss is an error.
    /// </summary>
    public float? FineTuneTemperature { get; init; }

    /// <summary>
    /// The KL loss's default temperature: 2, measured better than 1 on every configuration tried (docs/accuracy.md,
    /// "Fine-tuning": W2A8 CNN +1.0 point, and the factorized CNN and W4A4 reach their best at 2; 4 was worse).
    /// </summary>
    public const float DefaultFineTuneTemperature = 2f;

    /// <summary>The KL temperature the pass uses: <see cref="FineTuneTemperature"/> or the default.</summary>
    public float ResolveFineTuneTemperature() => FineTuneTemperature ?? DefaultFineTuneTemperature;

    /// <summary>
    /// Weight λ of the intermediate-feature term added to the distillation loss (0 = off): the mean squared error of
    /// every weighted layer's output against the float model's, each relative to the float model's mean square of that
    /// value, averaged over the layers (Training/FeatureDistillation.cs). The held-out step selection still reads the
    /// output loss only.
    /// </summary>
    public float FineTuneFeatureWeight { get; init; }

    /// <summary>Learning-rate schedule: true = cosine decay from <see cref="FineTuneLearningRate"/> to 0 over the steps (Loshchilov and Hutter), false = constant.</summary>
    public bool FineTuneCosine { get; init; }

    /// <summary>Whether activation grids learn their offset β (LSQ+); false keeps each grid's zero point, so the written-back grid is exactly the trained one.</summary>
    public bool FineTuneLearnOffsets { get; init; }

    /// <summary>
    /// Oscillation dampening's final weight λ (Nagel et al. 2022; 0 = off): λ·Σ ((w − ŵ)/s)² pulls each latent weight
    /// toward the grid point it rounds to; annealed from 0 with a cosine (Training/Oscillations.cs). In grid steps, so
    /// small: 1e-4 lowered W3A3 oscillations 7-10× for ~0.4 points, 0.01 and up hold every weight (docs/accuracy.md).
    /// </summary>
    public float FineTuneDampening { get; init; }

    /// <summary>Iterative freezing (0 = off): a weight whose oscillation frequency (EMA, momentum 0.01) exceeds this is frozen at its rounded integer EMA.</summary>
    public float FineTuneFreezeThreshold { get; init; }

    /// <summary>
    /// Applies the batch size, the KL temperature and the feature weight as MSBuild item metadata (FineTuneBatch,
    /// FineTuneTemperature, FineTuneFeatureWeight) and CLI options (--finetune-batch, --finetune-temperature,
    /// --finetune-feature-weight) spell them; empty = the default. Range errors are reported by validation (QG0015);
    /// unparsable text is a QG0015 naming the knob.
    /// </summary>
    public QuantizationOptions WithFineTuneBatchText(string? batch, string? temperature, string? featureWeight = null)
    {
        var options = this;
        if (!string.IsNullOrWhiteSpace(batch))
            options = options with { FineTuneBatch = int.TryParse(batch.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw Bad("FineTuneBatch", batch, "a positive integer") };
        if (!string.IsNullOrWhiteSpace(temperature)) options = options with { FineTuneTemperature = Number("FineTuneTemperature", temperature) };
        if (!string.IsNullOrWhiteSpace(featureWeight)) options = options with { FineTuneFeatureWeight = Number("FineTuneFeatureWeight", featureWeight) };
        return options;
    }

    private void ValidateFineTune()
    {
        if (FineTuneSteps is < 1 or > 1_000_000 || FineTuneBatch is < 1 or > 4096 || !(FineTuneLearningRate > 0 && FineTuneLearningRate <= 1))
            throw new ModelException(ErrorCodes.InvalidOption,
                $"Fine-tuning: steps {FineTuneSteps} (1..1000000), batch {FineTuneBatch} (1..4096) and learning rate {FineTuneLearningRate} (0..1] must be in range.");
        if (MaxTrainingSamples < 1 || FineTuneValidationSamples < 0 || FineTuneEvaluateEvery < 1)
            throw new ModelException(ErrorCodes.InvalidOption, "Fine-tuning: training and validation sample counts and the evaluation interval must be positive.");
        if (!(FineTuneScaleLearningRate >= 0 && FineTuneScaleLearningRate <= 10) || !(FineTuneWeightLearningRate >= 0 && FineTuneWeightLearningRate <= 10))
            throw new ModelException(ErrorCodes.InvalidOption, "Fine-tuning: the relative learning rates of scales and weights must be in 0..10.");
        if (FineTuneTemperature is { } t && !(t >= 0.1f && t <= 100))
            throw new ModelException(ErrorCodes.InvalidOption, $"Fine-tuning: temperature {t.ToString(CultureInfo.InvariantCulture)} must be in 0.1..100.");
        if (!(FineTuneFeatureWeight >= 0 && FineTuneFeatureWeight <= 1000))
            throw new ModelException(ErrorCodes.InvalidOption, $"Fine-tuning: feature weight {FineTuneFeatureWeight.ToString(CultureInfo.InvariantCulture)} must be in 0..1000 (0 = off).");
        if (FineTuneKullbackLeibler == false && FineTuneTemperature is { } set)
            throw new ModelException(ErrorCodes.InvalidOption,
                $"Fine-tuning: FineTuneTemperature={set.ToString(CultureInfo.InvariantCulture)} softens the KL loss's distributions, and FineTuneLoss=mse has none: drop one of them.");
        ValidateOscillations();
    }
}
