using System.Globalization;
using QuantGen.Core.IO;

namespace QuantGen.Core.Quantization;

/// <summary>
/// What a data-free build assumes about one model input, since it has no samples to measure: values uniform on
/// [<see cref="Min"/>, <see cref="Max"/>] (InputRange="MIN,MAX"), or with a mean and standard deviation
/// (InputMean/InputStd, the normalisation constants a model's preprocessing uses), covering mean ± 4σ. The moments
/// seed the data-free range propagation; the range is the input's quantization grid.
/// </summary>
public sealed record InputStatistics(float Min, float Max, double Mean, double Variance)
{
    /// <summary>Standard deviations an InputMean/InputStd range covers (as the data-free activation ranges do).</summary>
    public const double Sigmas = 4;

    public static InputStatistics Uniform(float min, float max) => new(min, max, (min + (double)max) / 2, Math.Pow(max - (double)min, 2) / 12);

    public static InputStatistics Normal(double mean, double std) =>
        new((float)(mean - Sigmas * std), (float)(mean + Sigmas * std), mean, std * std);

    /// <summary>How the report and the artifact's metadata state the assumption.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Min:G6}, {Max:G6}] (mean {Mean:G6}, std {Math.Sqrt(Variance):G6})");

    /// <summary>
    /// Parses the item's settings: InputRange "MIN,MAX" (every input) or "x=MIN,MAX;state=MIN,MAX"; InputMean and InputStd
    /// "V" or "x=V;state=V", both or neither, for the inputs InputRange does not name. Keys are input names, "" for every input.
    /// </summary>
    public static Dictionary<string, InputStatistics> Parse(string? range, string? mean, string? std)
    {
        var result = new Dictionary<string, InputStatistics>(StringComparer.Ordinal);
        foreach (var (name, value, _) in SettingList.Parse(range, "InputRange"))
        {
            var bounds = value.Split(',', StringSplitOptions.TrimEntries);
            if (bounds.Length != 2 || !TryFloat(bounds[0], out float min) || !TryFloat(bounds[1], out float max) || !(min < max))
                throw new ModelException(ErrorCodes.InvalidOption, $"InputRange=\"{range}\": '{value}' is not MIN,MAX with MIN < MAX (e.g. InputRange=\"-1,1\").");
            Add(result, name, Uniform(min, max), "InputRange");
        }
        var means = SettingList.ParseUnique(mean, "InputMean");
        var stds = SettingList.ParseUnique(std, "InputStd");
        if (!means.Keys.Order(StringComparer.Ordinal).SequenceEqual(stds.Keys.Order(StringComparer.Ordinal)))
            throw new ModelException(ErrorCodes.InvalidOption, $"InputMean=\"{mean}\" and InputStd=\"{std}\" must name the same inputs: set both, or InputRange instead.");
        foreach (var (name, m) in means)
        {
            if (!TryFloat(m, out float mu) || !TryFloat(stds[name], out float sigma) || !(sigma > 0))
                throw new ModelException(ErrorCodes.InvalidOption, $"InputMean=\"{mean}\" / InputStd=\"{std}\": need a number and a positive number for {(name.Length == 0 ? "the inputs" : $"input '{name}'")}.");
            Add(result, name, Normal(mu, sigma), "InputMean/InputStd");
        }
        return result;
    }

    private static void Add(Dictionary<string, InputStatistics> result, string name, InputStatistics statistics, string setting)
    {
        if (!result.TryAdd(name, statistics))
            throw new ModelException(ErrorCodes.InvalidOption, $"{setting}: {(name.Length == 0 ? "every input" : $"input '{name}'")} is given a distribution twice (InputRange and InputMean/InputStd are alternatives).");
    }

    private static bool TryFloat(string s, out float value) =>
        float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}
