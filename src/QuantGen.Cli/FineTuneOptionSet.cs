using System.CommandLine;
using QuantGen.Core.Quantization;

namespace QuantGen.Cli;

/// <summary>The fine-tuning knobs of quantize and emit (--algorithms …;finetune), read into <see cref="QuantizationOptions"/>.</summary>
internal sealed class FineTuneOptionSet
{
    private readonly Option<string?> _steps = new("--finetune-steps") { Description = "Fine-tuning: optimizer steps (default 200)." };
    private readonly Option<string?> _learningRate = new("--finetune-learning-rate") { Description = "Fine-tuning: learning rate in grid steps per step (default 0.01)." };
    private readonly Option<string?> _loss = new("--finetune-loss") { Description = "Fine-tuning: kl (on the logits) or mse; default: KL for a model ending in Softmax, MSE otherwise." };
    private readonly Option<string?> _batch = new("--finetune-batch") { Description = "Fine-tuning: samples per optimizer step, 1 to 4096 (default 16)." };
    private readonly Option<string?> _temperature = new("--finetune-temperature") { Description = "Fine-tuning: the KL loss's distillation temperature τ, 0.1 to 100 (default 2)." };
    private readonly Option<string?> _featureWeight = new("--finetune-feature-weight") { Description = "Fine-tuning: weight of the intermediate-feature MSE added to the loss (every weighted layer's output against the float model's, relative to its mean square); 0 = off (default)." };
    private readonly Option<string?> _dampening = new("--finetune-dampening") { Description = "Fine-tuning: oscillation dampening's final weight λ in grid steps (Nagel et al. 2022), e.g. 0.0001 (0.01 and up pin the weights); 0 = off (default)." };
    private readonly Option<string?> _freezeThreshold = new("--finetune-freeze-threshold") { Description = "Fine-tuning: freeze weights whose oscillation frequency exceeds this, e.g. 0.04; 0 = off (default)." };

    public IEnumerable<Option> Options => [_steps, _learningRate, _loss, _batch, _temperature, _featureWeight, _dampening, _freezeThreshold];

    public QuantizationOptions Read(ParseResult r, QuantizationOptions options) =>
        options.WithFineTuneText(r.GetValue(_steps), r.GetValue(_learningRate), r.GetValue(_loss), r.GetValue(_dampening), r.GetValue(_freezeThreshold))
            .WithFineTuneBatchText(r.GetValue(_batch), r.GetValue(_temperature), r.GetValue(_featureWeight));
}
