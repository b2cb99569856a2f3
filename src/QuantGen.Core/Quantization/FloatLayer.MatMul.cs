using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>MatMul of two computed tensors (LayerKinds.MatMul): the constant factor folded into it and its float function.</summary>
internal sealed partial class FloatLayer
{
    /// <summary>A constant scalar a following Div/Mul applies to the product (attention's 1/√d): y = factor · (A·B).</summary>
    public float MatMulFactor { get; set; } = 1f;

    /// <summary>factor · A·B, the batch dimensions broadcast as ONNX MatMul (ArtifactGeometry.MatMulBatches).</summary>
    public float[] MatMul(float[] a, int[] aShape, float[] b, int[] bShape)
    {
        var pairs = ArtifactGeometry.MatMulBatches(aShape, bShape, out _)
            ?? throw new ModelException(ErrorCodes.InternalError, "MatMul shapes do not broadcast.", nodeName: Name);
        int m = aShape[^2], k = aShape[^1], n = bShape[^1], batches = pairs.Length / 2;
        var y = new float[batches * m * n];
        for (int t = 0; t < batches; t++)
        {
            int aBase = pairs[2 * t] * m * k, bBase = pairs[2 * t + 1] * k * n, yBase = t * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++) sum += (double)a[aBase + i * k + p] * b[bBase + p * n + j];
                    y[yBase + i * n + j] = (float)(sum * MatMulFactor);
                }
        }
        return y;
    }
}
