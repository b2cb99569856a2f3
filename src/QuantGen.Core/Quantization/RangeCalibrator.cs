using System.Numerics.Tensors;
using Tensor = QuantGen.Core.Ir.Tensor;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Min-max activation ranges from calibration data: runs the float reference executor over the samples (both
/// cores, one sample per run at the graph's resolved batch) and records each observed value's extremes.
/// </summary>
internal static class RangeCalibrator
{
    public static Dictionary<string, (float Min, float Max)> Collect(Model prepared, CalibrationSet calibration, int samples, IReadOnlyCollection<string> values)
    {
        var wanted = new HashSet<string>(values, StringComparer.Ordinal);
        var executor = new ReferenceExecutor(prepared);
        var merged = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
        var gate = new object();

        Parallel.For(0, samples, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal),
            (index, _, local) =>
            {
                var inputs = calibration.Sample(prepared.Graph, index);
                foreach (var (name, tensor) in inputs)
                    if (wanted.Contains(name)) Observe(local, name, tensor);
                executor.Run(inputs, (_, name, tensor) =>
                {
                    if (wanted.Contains(name)) Observe(local, name, tensor);
                });
                return local;
            },
            local =>
            {
                lock (gate)
                    foreach (var (name, range) in local)
                        merged[name] = merged.TryGetValue(name, out var r) ? (MathF.Min(r.Min, range.Min), MathF.Max(r.Max, range.Max)) : range;
            });
        return merged;
    }

    private static void Observe(Dictionary<string, (float Min, float Max)> ranges, string name, Tensor tensor)
    {
        if (tensor.DataType != DataType.Float || tensor.Length == 0) return;
        var span = tensor.AsSpan<float>();
        float min = TensorPrimitives.Min(span), max = TensorPrimitives.Max(span);
        ranges[name] = ranges.TryGetValue(name, out var r) ? (MathF.Min(r.Min, min), MathF.Max(r.Max, max)) : (min, max);
    }
}
