using System.CommandLine;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;

namespace QuantGen.Cli;

/// <summary>
/// The quantization options (calibration, bit-widths, algorithms, ranges, compression, shapes, data-free input
/// statistics, budget) as quantize and emit both take them, and their reading into <see cref="QuantizationOptions"/>.
/// </summary>
internal sealed class QuantizeOptionSet
{
    private readonly Option<string[]> _calibration = new("--calibration") { Description = "Calibration data: FILE.npy, or NAME=FILE.npy per input (repeatable). Data-free without it." };
    private readonly Option<int> _weightBits = new("--weight-bits") { DefaultValueFactory = _ => 8, Description = "Weight bit-width, 2 to 8." };
    private readonly Option<int> _activationBits = new("--activation-bits") { DefaultValueFactory = _ => 8, Description = "Activation bit-width: 3 to 8 (u8 storage, 2^b levels) or 16 (i16)." };
    private readonly Option<string[]> _trainingData = new("--training-data") { Description = "Fine-tuning (--algorithms ...;finetune): unlabeled inputs, FILE.npy or NAME=FILE.npy per input (repeatable), in the calibration format; default: the calibration data." };
    private readonly Option<string?> _algorithms = new("--algorithms") { Description = "Passes: cle;bias-absorption;bias-correction;adaround, none, or default (docs/accuracy.md)." };
    private readonly Option<string?> _rangeMethod = new("--range-method") { Description = "Range setting: minmax, mse, percentile, or default." };
    private readonly Option<string?> _perChannel = new("--per-channel") { Description = "true (default): one weight scale per output channel; false: one per layer." };
    private readonly Option<string?> _floatFallback = new("--float-fallback") { Description = "true (default): nodes with no quantized kernel run in float (warning QG0022); false: they stop the build (QG0024)." };
    private readonly Option<string?> _quantizedAttention = new("--quantized-attention") { Description = "false (default): MatMuls of two computed tensors (attention's Q·Kᵀ) run in float; true: they are quantized (docs/accuracy.md)." };
    private readonly Option<string[]> _floatNodes = new("--float-nodes") { Description = "ONNX node names to run in float even where a quantized kernel exists, NAME;NAME2 (repeatable; a trailing * matches a prefix; names as `inspect` lists them)." };
    private readonly Option<string?> _adaRoundIterations = new("--adaround-iterations") { Description = $"AdaRound steps per layer (default {QuantizationOptions.DefaultAdaRoundIterations})." };
    private readonly Option<string?> _compression = new("--compression") { Description = "Weight storage: none (default) or factorized (quantized sparse factors, docs/quantization.md)." };
    private readonly Option<string?> _compressionRatio = new("--compression-ratio") { Description = "Factorized: target float32 bytes / stored weight bytes, e.g. 12." };
    private readonly Option<string?> _factorRank = new("--factor-rank") { Description = "Factorized with explicit factors: the rank of every factorized layer (1 to 256)." };
    private readonly Option<string?> _factorSparsity = new("--factor-sparsity") { Description = "Factorized: fraction of each factor row set to zero (0 to 0.95)." };
    private readonly Option<string?> _factorBits = new("--factor-bits") { Description = "Factorized: the factors' bit-width (2 to 8)." };
    private readonly Option<string?> _sizeBudget = new("--size-budget") { Description = "Mixed precision (HAWQ-V2): the largest weight bytes, e.g. 48KB (KB = 1024 bytes); per-layer widths from 2, 3, 4, 8 bits." };
    private readonly Option<string?> _averageWeightBits = new("--average-weight-bits") { Description = "Mixed precision (HAWQ-V2): the largest mean weight width over the parameters, e.g. 4.5." };
    private readonly Option<string?> _firstLayerWeightBits = new("--first-layer-weight-bits") { Description = "Pins the first weighted layer's width (2 to 8); default: WeightBits, or searched with a budget." };
    private readonly Option<string?> _lastLayerWeightBits = new("--last-layer-weight-bits") { Description = "Pins the last weighted layer's width (2 to 8); default: WeightBits, or searched with a budget." };
    private readonly Option<int> _batch = CommonOptions.Batch();
    private readonly Option<string[]> _dims = CommonOptions.Dims();
    private readonly Option<string[]> _inputShapes = CommonOptions.InputShapes();
    private readonly Option<string?> _inputRange = new("--input-range") { Description = "Data-free: the inputs' range, MIN,MAX (every input) or NAME=MIN,MAX;NAME2=MIN,MAX." };
    private readonly Option<string?> _inputMean = new("--input-mean") { Description = "Data-free, instead of --input-range: the inputs' mean, V or NAME=V;NAME2=V (with --input-std)." };
    private readonly Option<string?> _inputStd = new("--input-std") { Description = "Data-free: the inputs' standard deviation, V or NAME=V;NAME2=V (with --input-mean)." };
    private readonly Option<string?> _encodings = new("--encodings") { Description = "An AIMET encodings JSON (0.6.1, 1.0.0, 2.0.0) whose ranges override QuantGen's for the tensors and parameters it names (docs/interop.md)." };
    private readonly CommonOptions.BudgetOptions _budget = new();
    private readonly FineTuneOptionSet _fineTune = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            _calibration, _trainingData, _weightBits, _activationBits, _algorithms, _rangeMethod, _perChannel, _floatFallback, _quantizedAttention, _floatNodes, _adaRoundIterations, _compression, _compressionRatio,
            _factorRank, _factorSparsity, _factorBits, _sizeBudget, _averageWeightBits, _firstLayerWeightBits, _lastLayerWeightBits, _batch, _dims, _inputShapes, _inputRange, _inputMean, _inputStd, _encodings,
        })
            command.Options.Add(option);
        foreach (var option in _fineTune.Options) command.Options.Add(option);
        _budget.AddTo(command);
    }

    public string[]? Calibration(ParseResult r) => r.GetValue(_calibration);

    public QuantizationOptions Read(ParseResult r) => _fineTune.Read(r, new()
    {
        WeightBits = r.GetValue(_weightBits),
        ActivationBits = r.GetValue(_activationBits),
        TrainingDataFiles = r.GetValue(_trainingData) is { Length: > 0 } training ? training : null,
        BatchSize = r.GetValue(_batch),
        Algorithms = QuantizationOptions.ParseAlgorithms(r.GetValue(_algorithms)),
        RangeMethod = QuantizationOptions.ParseRangeMethod(r.GetValue(_rangeMethod)),
        PerChannel = QuantizationOptions.ParsePerChannel(r.GetValue(_perChannel)),
        FloatFallback = QuantizationOptions.ParseFloatFallback(r.GetValue(_floatFallback)),
        FloatNodes = QuantizationOptions.ParseFloatNodes(r.GetValue(_floatNodes)),
        QuantizedAttention = QuantizationOptions.ParseQuantizedAttention(r.GetValue(_quantizedAttention)),
        AdaRoundIterations = QuantizationOptions.ParseIterations(r.GetValue(_adaRoundIterations)),
        Compression = CompressionOptions.ParseCompression(r.GetValue(_compression)),
        CompressionRatio = CompressionOptions.ParseRatio(r.GetValue(_compressionRatio)),
        FactorRank = CompressionOptions.ParseInt("FactorRank", r.GetValue(_factorRank)),
        FactorSparsity = CompressionOptions.ParseSparsity(r.GetValue(_factorSparsity)),
        FactorBits = CompressionOptions.ParseInt("FactorBits", r.GetValue(_factorBits)),
        Dimensions = CommonOptions.Dimensions(r.GetValue(_dims)),
        InputShapes = ShapeOptions.ParseInputShapes(r.GetValue(_inputShapes) ?? [], "InputShape (--input-shape)"),
        InputStatistics = InputStatistics.Parse(r.GetValue(_inputRange), r.GetValue(_inputMean), r.GetValue(_inputStd)),
        EncodingsPath = r.GetValue(_encodings),
        Budget = _budget.Read(r),
        SizeBudget = QuantizationOptions.ParseSizeBudget(r.GetValue(_sizeBudget)),
        AverageWeightBits = QuantizationOptions.ParseAverageWeightBits(r.GetValue(_averageWeightBits)),
        FirstLayerWeightBits = QuantizationOptions.ParseLayerBits("FirstLayerWeightBits", r.GetValue(_firstLayerWeightBits)),
        LastLayerWeightBits = QuantizationOptions.ParseLayerBits("LastLayerWeightBits", r.GetValue(_lastLayerWeightBits)),
    });
}
