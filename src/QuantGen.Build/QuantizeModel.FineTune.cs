using Microsoft.Build.Utilities;

namespace QuantGen.Build;

/// <summary>The fine-tuning knobs (Algorithms="…;finetune"), passed to the CLI as they are; the CLI validates them (QG0015).</summary>
public sealed partial class QuantizeModel
{
    /// <summary>Optimizer steps; empty = the default (200).</summary>
    public string FineTuneSteps { get; set; } = "";

    /// <summary>Learning rate in grid steps per step; empty = the default (0.01).</summary>
    public string FineTuneLearningRate { get; set; } = "";

    /// <summary>kl or mse; empty = KL for a model ending in Softmax, MSE otherwise.</summary>
    public string FineTuneLoss { get; set; } = "";

    /// <summary>Samples per optimizer step; empty = the default (16).</summary>
    public string FineTuneBatch { get; set; } = "";

    /// <summary>The KL loss's distillation temperature; empty = the default (2).</summary>
    public string FineTuneTemperature { get; set; } = "";

    /// <summary>Weight of the intermediate-feature MSE beside the output loss; empty or 0 = off.</summary>
    public string FineTuneFeatureWeight { get; set; } = "";

    /// <summary>Oscillation dampening's final λ; empty or 0 = off.</summary>
    public string FineTuneDampening { get; set; } = "";

    /// <summary>Iterative freezing's oscillation-frequency threshold; empty or 0 = off.</summary>
    public string FineTuneFreezeThreshold { get; set; } = "";

    private void AppendFineTune(CommandLineBuilder args)
    {
        AppendIfSet(args, "--finetune-steps ", FineTuneSteps);
        AppendIfSet(args, "--finetune-learning-rate ", FineTuneLearningRate);
        AppendIfSet(args, "--finetune-loss ", FineTuneLoss);
        AppendIfSet(args, "--finetune-batch ", FineTuneBatch);
        AppendIfSet(args, "--finetune-temperature ", FineTuneTemperature);
        AppendIfSet(args, "--finetune-feature-weight ", FineTuneFeatureWeight);
        AppendIfSet(args, "--finetune-dampening ", FineTuneDampening);
        AppendIfSet(args, "--finetune-freeze-threshold ", FineTuneFreezeThreshold);
    }
}
