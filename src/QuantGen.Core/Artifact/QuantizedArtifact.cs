using System;

namespace QuantGen.Core.Artifact;

// The quantized artifact: what the MSBuild task writes to obj/ and the source generator turns into C#.
// docs/artifact.md documents the text format and the meaning of every layer kind's fields.
// These files are compiled into both QuantGen.Core and the netstandard2.0 generator: dependency-free C# 9 only.

/// <summary>The whole quantized model, in execution order.</summary>
public sealed record QuantizedArtifact(
    int FormatVersion,
    string ModelName,
    EquatableArray<ArtifactMetadata> Metadata,
    EquatableArray<ArtifactTensor> Tensors,
    EquatableArray<ArtifactIo> Inputs,
    EquatableArray<ArtifactIo> Outputs,
    EquatableArray<ArtifactLayer> Layers)
{
    /// <summary>The version this code writes and reads. Bump on any incompatible change.</summary>
    public const int CurrentFormatVersion = 1;

    public string? GetMetadata(string key)
    {
        foreach (var m in Metadata)
            if (m.Key == key) return m.Value;
        return null;
    }

    public ArtifactTensor GetTensor(string name)
    {
        foreach (var t in Tensors)
            if (t.Name == name) return t;
        throw new ArtifactFormatException($"Unknown tensor '{name}'.");
    }
}

/// <summary>Free-form facts about how the artifact was made (tool version, algorithms, calibration SQNR...).</summary>
public sealed record ArtifactMetadata(string Key, string Value);

/// <summary>Element type of an activation tensor.</summary>
public enum ArtifactElementType
{
    /// <summary>Float at the model's edges (before Quantize, after Dequantize).</summary>
    F32,
    U8,
    I8,

    /// <summary>16-bit activations (ActivationBits=16): symmetric, zero point 0, q in [−32767, 32767], int64 accumulators.</summary>
    I16,
}

/// <summary>
/// An activation tensor: shape (NCHW for images) and its affine grid real = Scale · (q − ZeroPoint), q in [QMin, QMax].
/// Float tensors have Scale 1 and ZeroPoint 0.
/// </summary>
public sealed record ArtifactTensor(string Name, ArtifactElementType ElementType, EquatableArray<int> Shape, float Scale, int ZeroPoint, int QMin, int QMax)
{
    public int ElementCount
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>A graph input or output: the ONNX name the user sees and the float tensor carrying it.</summary>
public sealed record ArtifactIo(string Name, string Tensor);

/// <summary>Named integer parameters of a layer (strides, pads, clamp bounds, multipliers...).</summary>
public sealed record ArtifactInts(string Key, EquatableArray<int> Values);

/// <summary>Named float parameters of a layer (float edge ops only).</summary>
public sealed record ArtifactFloats(string Key, EquatableArray<float> Values);

/// <summary>Element type of a constant blob.</summary>
public enum BlobType
{
    I8,
    U8,
    I32,
    F32,
}

/// <summary>Constant data of a layer: weights, biases. Integer blobs hold their values in <see cref="Values"/>; F32 in <see cref="FloatValues"/>.</summary>
public sealed record ArtifactBlob(string Key, BlobType Type, EquatableArray<int> Shape, EquatableArray<int> Values, EquatableArray<float> FloatValues);

/// <summary>One layer: a kind from docs/artifact.md, the ONNX node(s) it came from, its tensors and parameters.</summary>
public sealed record ArtifactLayer(
    string Kind,
    string Name,
    EquatableArray<string> Inputs,
    EquatableArray<string> Outputs,
    EquatableArray<ArtifactInts> Ints,
    EquatableArray<ArtifactFloats> Floats,
    EquatableArray<ArtifactBlob> Blobs,
    string Comment)
{
    public int[] GetInts(string key)
    {
        foreach (var a in Ints)
            if (a.Key == key) return a.Values.AsArray();
        throw new ArtifactFormatException($"Layer '{Name}' ({Kind}) has no '{key}' parameter.");
    }

    public int GetInt(string key) => GetInts(key)[0];

    public bool HasInts(string key)
    {
        foreach (var a in Ints)
            if (a.Key == key) return true;
        return false;
    }

    public float[] GetFloats(string key)
    {
        foreach (var a in Floats)
            if (a.Key == key) return a.Values.AsArray();
        throw new ArtifactFormatException($"Layer '{Name}' ({Kind}) has no '{key}' float parameter.");
    }

    public bool HasBlob(string key)
    {
        foreach (var b in Blobs)
            if (b.Key == key) return true;
        return false;
    }

    public ArtifactBlob GetBlob(string key)
    {
        foreach (var b in Blobs)
            if (b.Key == key) return b;
        throw new ArtifactFormatException($"Layer '{Name}' ({Kind}) has no '{key}' data.");
    }
}

/// <summary>The artifact text is malformed or of an unknown version.</summary>
public sealed class ArtifactFormatException : Exception
{
    public ArtifactFormatException(string message) : base(message) { }
}
