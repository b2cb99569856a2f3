using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace QuantGen.Tests.RealModels;

/// <summary>ONNX Runtime on float inputs, one intra-op thread: the independent oracle the reference executor is compared with.</summary>
internal sealed class OnnxRuntimeOracle : IDisposable
{
    private readonly InferenceSession _session;

    public OnnxRuntimeOracle(string modelPath)
    {
        var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(modelPath, options);
    }

    public Dictionary<string, float[]> Run(string inputName, float[] data, int[] shape)
    {
        var input = NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(data, shape));
        using var results = _session.Run([input]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray(), StringComparer.Ordinal);
    }

    public void Dispose() => _session.Dispose();
}
