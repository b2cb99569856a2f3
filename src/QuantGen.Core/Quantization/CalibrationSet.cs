using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Calibration samples per graph input: a float tensor [N, ...] whose first dimension counts samples. Each sample
/// must match the input's resolved shape, either with the batch dimension replaced by N (shape [N, C, H, W] for
/// an input [1, C, H, W]) or with N prepended ([N, 1, C, H, W]).
/// </summary>
public sealed class CalibrationSet
{
    private readonly Dictionary<string, Tensor> _inputs;

    public CalibrationSet(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, string>? sources = null)
    {
        _inputs = new Dictionary<string, Tensor>(inputs, StringComparer.Ordinal);
        Sources = sources ?? inputs.Keys.ToDictionary(k => k, k => k);
    }

    /// <summary>Where each input's data came from (file paths), for messages.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>
    /// Checks the data against the prepared graph: every input present, float32, finite, sample shapes matching.
    /// Returns the number of samples (the smallest N over inputs), or throws QG0016 naming the file.
    /// </summary>
    public int Validate(Graph graph, string? modelPath)
    {
        int samples = int.MaxValue;
        foreach (var input in graph.Inputs)
        {
            var source = Sources.TryGetValue(input.Name, out var s) ? s : input.Name;
            if (!_inputs.TryGetValue(input.Name, out var tensor))
                throw new ModelException(ErrorCodes.BadCalibration, $"No calibration data for input '{input.Name}'.", modelPath);
            if (tensor.DataType != DataType.Float)
                throw new ModelException(ErrorCodes.BadCalibration, $"Calibration file '{source}' holds {DataTypes.Name(tensor.DataType)}; it must be float32.", modelPath);
            var sample = SampleShape(graph, input.Name);
            int n = SampleCount(tensor, sample)
                ?? throw new ModelException(ErrorCodes.BadCalibration,
                    $"Calibration file '{source}' has shape {ShapeMath.Format(tensor.Shape)}; input '{input.Name}' needs [N,{string.Join(",", sample[1..])}] or [N,{string.Join(",", sample)}].", modelPath);
            if (n == 0)
                throw new ModelException(ErrorCodes.BadCalibration, $"Calibration file '{source}' holds no samples.", modelPath);
            var data = tensor.AsSpan<float>();
            for (int i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i]))
                    throw new ModelException(ErrorCodes.BadCalibration,
                        $"Calibration file '{source}' holds {(float.IsNaN(data[i]) ? "NaN" : "an infinity")} at element {i} (sample {i / (data.Length / n)}).", modelPath);
            samples = Math.Min(samples, n);
        }
        return samples == int.MaxValue ? 0 : samples;
    }

    /// <summary>Sample <paramref name="index"/> of every input, shaped as the graph input.</summary>
    public Dictionary<string, Tensor> Sample(Graph graph, int index)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            var shape = SampleShape(graph, input.Name);
            int size = ShapeMath.ElementCount(shape);
            var data = _inputs[input.Name].AsSpan<float>().Slice(index * size, size).ToArray();
            result[input.Name] = Tensor.FromArray(shape, data);
        }
        return result;
    }

    private static int[] SampleShape(Graph graph, string input) => graph.ValueInfos[input].Shape;

    private static int? SampleCount(Tensor tensor, int[] sample)
    {
        var shape = tensor.Shape;
        // [N, ...sample] with N prepended.
        if (shape.Length == sample.Length + 1 && shape.AsSpan(1).SequenceEqual(sample)) return shape[0];
        // [N, ...sample[1..]]: N samples of a batch-1 input.
        if (shape.Length == sample.Length && sample.Length > 0 && sample[0] == 1 && shape.AsSpan(1).SequenceEqual(sample.AsSpan(1))) return shape[0];
        return null;
    }
}
