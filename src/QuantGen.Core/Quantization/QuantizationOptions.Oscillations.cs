using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>The MSBuild/CLI spellings of the fine-tuning knobs (FineTuneSteps, FineTuneLearningRate, FineTuneLoss, FineTuneDampening, FineTuneFreezeThreshold).</summary>
public sealed partial record QuantizationOptions
{
    private void ValidateOscillations()
    {
        if (!(FineTuneDampening >= 0 && FineTuneDampening <= 1000))
            throw new ModelException(ErrorCodes.InvalidOption, $"FineTuneDampening={FineTuneDampening.ToString(CultureInfo.InvariantCulture)} must be in 0..1000 (0 = off).");
        if (!(FineTuneFreezeThreshold >= 0 && FineTuneFreezeThreshold < 1))
            throw new ModelException(ErrorCodes.InvalidOption, $"FineTuneFreezeThreshold={FineTuneFreezeThreshold.ToString(CultureInfo.InvariantCulture)} must be in [0, 1) (0 = off).");
    }

    /// <summary>
    /// Applies the fine-tuning knobs as MSBuild item metadata and CLI options spell them (empty = the default):
    /// steps (integer), learning rate, loss (kl, mse or default), dampening λ and freeze threshold. Range errors are
    /// reported by validation; unparsable text is an InvalidOption error naming the knob.
    /// </summary>
    public QuantizationOptions WithFineTuneText(string? steps, string? learningRate, string? loss, string? dampening, string? freezeThreshold)
    {
        var options = this;
        if (!string.IsNullOrWhiteSpace(steps))
            options = options with { FineTuneSteps = int.TryParse(steps.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw Bad("FineTuneSteps", steps, "a positive integer") };
        if (!string.IsNullOrWhiteSpace(learningRate)) options = options with { FineTuneLearningRate = Number("FineTuneLearningRate", learningRate) };
        if (!string.IsNullOrWhiteSpace(dampening)) options = options with { FineTuneDampening = Number("FineTuneDampening", dampening) };
        if (!string.IsNullOrWhiteSpace(freezeThreshold)) options = options with { FineTuneFreezeThreshold = Number("FineTuneFreezeThreshold", freezeThreshold) };
        if (!string.IsNullOrWhiteSpace(loss))
            options = options with
            {
                FineTuneKullbackLeibler = loss.Trim().ToLowerInvariant() switch
                {
                    "kl" => true,
                    "mse" => false,
                    "default" => null,
                    _ => throw Bad("FineTuneLoss", loss, "kl, mse or default"),
                },
            };
        return options;
    }

    private static float Number(string name, string text) =>
        float.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value) ? value : throw Bad(name, text, "a number");

    private static ModelException Bad(string name, string text, string expected) =>
        new(ErrorCodes.InvalidOption, $"{name}: '{text.Trim()}' must be {expected}.");
}
