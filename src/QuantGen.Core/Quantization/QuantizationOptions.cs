using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>The post-training passes a build may run (the QuantModel item's <c>Algorithms</c> metadata).</summary>
[Flags]
public enum QuantizationAlgorithms
{
    None = 0,

    /// <summary>Cross-layer equalization (DFQ §4.1): rescale consecutive layers' channels to equal weight ranges.</summary>
    Cle = 1,

    /// <summary>High-bias absorption (DFQ §4.1): move the always-active part of a bias into the next layer.</summary>
    BiasAbsorption = 2,

    /// <summary>Bias correction (DFQ §4.2): empirical with calibration data, analytic from BN statistics without.</summary>
    BiasCorrection = 4,

    /// <summary>AdaRound (arXiv 2004.10568): learned up/down rounding of the weights; needs calibration data.</summary>
    AdaRound = 8,

    /// <summary>Label-free fine-tuning after the other passes (STE weights, LSQ+ grids, distillation from the float model; docs/quantization.md "Gradients").</summary>
    FineTune = 16,
}

/// <summary>How a quantization range is chosen (white paper §3.4).</summary>
public enum RangeMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,

    /// <summary>The clipping range [α·min, α·max] minimising the squared quantization error (α from 1 down to 0.3).</summary>
    Mse,

    /// <summary>The 0.01% and 99.99% percentiles (magnitudes for weights).</summary>
    Percentile,
}

/// <summary>What the user asked for on the QuantModel item (or the CLI), validated.</summary>
public sealed partial record QuantizationOptions
{
    /// <summary>The iteration count AdaRound uses unless told otherwise (docs/accuracy.md shows what it buys and costs).</summary>
    public const int DefaultAdaRoundIterations = 2000;

    /// <summary>Weight bit-width, 2 to 8. Weights are symmetric on the narrow grid ±(2^(b−1) − 1).</summary>
    public int WeightBits { get; init; } = 8;

    /// <summary>
    /// Activation bit-width: 3 to 8 (asymmetric, stored in u8, q ∈ [0, 2^b − 1]: the same kernels, a narrower grid) or
    /// 16 (symmetric i16 with int64 accumulators, TFLite's "16x8"; docs/quantization.md). Every activation of the model has this width.
    /// </summary>
    public int ActivationBits { get; init; } = 8;

    /// <summary>Batch size the symbolic batch dimension resolves to in the generated class.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Resource caps (QG0041) for preparing, calibrating and emitting the model; docs/security.md.</summary>
    public ResourceBudget Budget { get; init; } = ResourceBudget.Default;

    /// <summary>Fewest calibration samples accepted: below one batch of AdaRound's paper (32 images) ranges and statistics are noise.</summary>
    public int MinCalibrationSamples { get; init; } = 32;

    /// <summary>Fine-tuning (Algorithms "finetune"): optimizer steps, samples per step, and the learning rate in grid steps per step (Training/FineTuning.cs).</summary>
    public int FineTuneSteps { get; init; } = 200;

    public int FineTuneBatch { get; init; } = 16;

    public float FineTuneLearningRate { get; init; } = 0.01f;

    /// <summary>Fine-tuning's worker threads (null: one per core); the result is the same bytes at any count (tests check 1 and 2).</summary>
    public int? FineTuneThreads { get; init; }

    /// <summary>Largest number of calibration samples used (the first N of the file).</summary>
    public int MaxCalibrationSamples { get; init; } = 512;

    /// <summary>The passes to run; null = the default pipeline for the situation (<see cref="ResolveAlgorithms"/>).</summary>
    public QuantizationAlgorithms? Algorithms { get; init; }

    /// <summary>Range setting for weights and activations; null = the default (<see cref="ResolveWeightRanges"/>, <see cref="ResolveActivationRanges"/>).</summary>
    public RangeMethod? RangeMethod { get; init; }

    /// <summary>One weight scale per output channel (true) or one per layer (false).</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Nodes with no quantized kernel run in float (true: warning QG0022) or stop the build (false: QG0024).</summary>
    public bool FloatFallback { get; init; } = true;

    /// <summary>
    /// MatMuls of two quantized computed tensors (attention's Q·Kᵀ) as quantized MatMul layers (true) or in float (false,
    /// the default: docs/accuracy.md). A MatMul reading a value computed in float runs in float either way.
    /// </summary>
    public bool QuantizedAttention { get; init; }

    /// <summary>AdaRound optimisation steps per layer.</summary>
    public int AdaRoundIterations { get; init; } = DefaultAdaRoundIterations;

    /// <summary>How weights are stored: plain, or as quantized sparse factors where it pays (docs/quantization.md).</summary>
    public Factorization.WeightCompression Compression { get; init; }

    /// <summary>Factorized: the target float32-bytes / stored-bytes ratio of the model's weights.</summary>
    public double? CompressionRatio { get; init; }

    /// <summary>Factorized with explicit factors: the rank of every factorized layer (capped at its smaller side).</summary>
    public int? FactorRank { get; init; }

    /// <summary>Factorized: the fraction of each factor row's entries set to zero (0 = dense); with a ratio, fixes it instead of searching.</summary>
    public double? FactorSparsity { get; init; }

    /// <summary>Factorized: the factors' bit-width, 2 to 8; with a ratio, fixes it instead of searching.</summary>
    public int? FactorBits { get; init; }

    /// <summary>
    /// Told one line per finished step (a layer's passes, a share of the factor fits), so that a build of minutes shows
    /// it is not hung. <see cref="ModelQuantizer"/> calls it from one thread at a time, with the elapsed time appended.
    /// </summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Data-free builds: each input's assumed distribution, by input name ("" for every input); see <see cref="InputStatistics"/>.</summary>
    public IReadOnlyDictionary<string, InputStatistics> InputStatistics { get; init; } = new Dictionary<string, InputStatistics>();

    /// <summary>Sizes for named symbolic dimensions of the inputs (--dim), beside <see cref="BatchSize"/>.</summary>
    public IReadOnlyDictionary<string, int> Dimensions { get; init; } = new Dictionary<string, int>();

    /// <summary>Whole input shapes (InputShape/InputShapes, --input-shape), by input name ("" for the only input).</summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; init; } = new Dictionary<string, int[]>();

    /// <summary>An AIMET encodings file (JSON, format 0.6.1, 1.0.0 or 2.0.0) whose ranges override QuantGen's for the tensors and parameters it names.</summary>
    public string? EncodingsPath { get; init; }

    /// <summary>
    /// The documented default pipelines. With calibration data: CLE, high-bias absorption, then AdaRound below 8
    /// bits (where rounding is what loses accuracy) or empirical bias correction at 8 bits (where AdaRound costs
    /// build time for nothing measurable); with Compression="factorized" both. Data-free: CLE, high-bias absorption,
    /// analytic bias correction.
    /// </summary>
    public QuantizationAlgorithms ResolveAlgorithms(bool hasCalibration)
    {
        if (Algorithms is { } chosen) return chosen;
        var common = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption;
        if (!hasCalibration) return common | QuantizationAlgorithms.BiasCorrection;
        // Factorized: AdaRound for the layers the planner leaves plain at 2-4 bits, bias correction for the factors.
        if (Compression == Factorization.WeightCompression.Factorized)
            return common | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.BiasCorrection;
        return common | (UsesLowBits ? QuantizationAlgorithms.AdaRound : QuantizationAlgorithms.BiasCorrection);
    }

    /// <summary>Weights default to MSE ranges: never worse than min-max in squared error, and much better at ≤ 4 bits.</summary>
    public RangeMethod ResolveWeightRanges() => RangeMethod ?? Quantization.RangeMethod.Mse;

    /// <summary>
    /// Activations default to min-max at 8 bits and more, where clipping outliers costs more than the resolution it
    /// buys, and to MSE below 8 bits, where 16 levels make the resolution worth more (W4A4 CNN +1.05 points; docs/accuracy.md).
    /// </summary>
    public RangeMethod ResolveActivationRanges() => RangeMethod ?? (ActivationBits < 8 ? Quantization.RangeMethod.Mse : Quantization.RangeMethod.MinMax);

    /// <summary>Checks ranges and combinations; a bad value is a <see cref="ModelException"/> naming the option.</summary>
    public void Validate()
    {
        if (WeightBits is < 2 or > 8)
            throw new ModelException(ErrorCodes.InvalidOption, $"WeightBits={WeightBits} is not supported: use 2 to 8.");
        if (ActivationBits is not (>= 3 and <= 8 or 16))
            throw new ModelException(ErrorCodes.InvalidOption, $"ActivationBits={ActivationBits} is not supported: use 3 to 8 or 16.");
        if (BatchSize is < 1 or > 4096)
            throw new ModelException(ErrorCodes.InvalidOption, $"BatchSize={BatchSize} is out of range 1..4096.");
        if (MinCalibrationSamples < 1 || MaxCalibrationSamples < 1)
            throw new ModelException(ErrorCodes.InvalidOption, "Calibration sample counts must be positive.");
        if (AdaRoundIterations is < 1 or > 1_000_000)
            throw new ModelException(ErrorCodes.InvalidOption, $"AdaRoundIterations={AdaRoundIterations} is out of range 1..1000000.");
        Factorization.CompressionOptions.Validate(this);
        ValidateMixedPrecision();
        ValidateFineTune();
    }

    /// <summary>Parses "cle;bias-absorption;bias-correction;adaround" (any order, ';' or ',' separated), "none" or "default" (null).</summary>
    public static QuantizationAlgorithms? ParseAlgorithms(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals("default", StringComparison.OrdinalIgnoreCase)) return null;
        var result = QuantizationAlgorithms.None;
        foreach (var part in text.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "none" => QuantizationAlgorithms.None,
                "cle" => QuantizationAlgorithms.Cle,
                "bias-absorption" => QuantizationAlgorithms.BiasAbsorption,
                "bias-correction" => QuantizationAlgorithms.BiasCorrection,
                "adaround" => QuantizationAlgorithms.AdaRound,
                "finetune" => QuantizationAlgorithms.FineTune,
                _ => throw new ModelException(ErrorCodes.InvalidOption,
                    $"Algorithms: '{part}' is not a known pass; use cle, bias-absorption, bias-correction, adaround, finetune, none or default."),
            };
        }
        return result;
    }

    /// <summary>The option's spelling of a set of passes (the inverse of <see cref="ParseAlgorithms"/>).</summary>
    public static string Format(QuantizationAlgorithms algorithms)
    {
        var parts = new List<string>();
        if (algorithms.HasFlag(QuantizationAlgorithms.Cle)) parts.Add("cle");
        if (algorithms.HasFlag(QuantizationAlgorithms.BiasAbsorption)) parts.Add("bias-absorption");
        if (algorithms.HasFlag(QuantizationAlgorithms.BiasCorrection)) parts.Add("bias-correction");
        if (algorithms.HasFlag(QuantizationAlgorithms.AdaRound)) parts.Add("adaround");
        if (algorithms.HasFlag(QuantizationAlgorithms.FineTune)) parts.Add("finetune");
        return parts.Count == 0 ? "none" : string.Join(";", parts);
    }

    /// <summary>Parses "minmax", "mse", "percentile" or "default" (null).</summary>
    public static RangeMethod? ParseRangeMethod(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : text.Trim().ToLowerInvariant() switch
        {
            "default" => null,
            "minmax" or "min-max" => Quantization.RangeMethod.MinMax,
            "mse" => Quantization.RangeMethod.Mse,
            "percentile" => Quantization.RangeMethod.Percentile,
            _ => throw new ModelException(ErrorCodes.InvalidOption, $"RangeMethod: '{text.Trim()}' is not known; use minmax, mse, percentile or default."),
        };

    /// <summary>Parses "true"/"false" (MSBuild's spelling), empty = true.</summary>
    public static bool ParsePerChannel(string? text) =>
        string.IsNullOrWhiteSpace(text) ? true
        : bool.TryParse(text.Trim(), out bool value) ? value
        : throw new ModelException(ErrorCodes.InvalidOption, $"PerChannel: '{text.Trim()}' must be true or false.");

    /// <summary>Parses FloatFallback's "true"/"false", empty = true.</summary>
    public static bool ParseFloatFallback(string? text) =>
        string.IsNullOrWhiteSpace(text) ? true
        : bool.TryParse(text.Trim(), out bool value) ? value
        : throw new ModelException(ErrorCodes.InvalidOption, $"FloatFallback: '{text.Trim()}' must be true or false.");

    /// <summary>Parses the QuantizedAttention switch: empty = false (attention products in float, docs/accuracy.md).</summary>
    public static bool ParseQuantizedAttention(string? text) =>
        string.IsNullOrWhiteSpace(text) ? false
        : bool.TryParse(text.Trim(), out bool value) ? value
        : throw new ModelException(ErrorCodes.InvalidOption, $"QuantizedAttention: '{text.Trim()}' must be true or false.");

    /// <summary>Parses a positive iteration count; empty = the default.</summary>
    public static int ParseIterations(string? text) =>
        string.IsNullOrWhiteSpace(text) ? DefaultAdaRoundIterations
        : int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1 ? value
        : throw new ModelException(ErrorCodes.InvalidOption, $"AdaRoundIterations: '{text.Trim()}' must be a positive integer.");
}
