using Google.Protobuf;
using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>
/// Reads an ONNX model file into the QuantGen IR. Every problem with the file surfaces as a
/// <see cref="ModelException"/> carrying a QG code, the model path and (where it applies) the node.
/// </summary>
public static class OnnxModelLoader
{
    /// <summary>Lowest and highest default-domain opset the importer accepts.</summary>
    public const int MinOpset = 1;
    public const int MaxOpset = 21;

    /// <summary>Refuse files larger than protobuf's own 2 GiB message limit before reading them.</summary>
    private const long MaxModelBytes = int.MaxValue;

    public static Model Load(string path, ResourceBudget? budget = null)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new ModelException(ErrorCodes.FileNotFound, $"Model file '{path}' does not exist.", path);
        var length = new FileInfo(fullPath).Length;
        if (length > MaxModelBytes)
            throw new ModelException(ErrorCodes.MalformedModel, $"Model file is {length} bytes, above protobuf's 2 GiB limit.", path);

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelException(ErrorCodes.FileNotFound, $"Model file cannot be read: {e.Message}", path);
        }
        return Load(bytes, path, Path.GetDirectoryName(fullPath), budget);
    }

    /// <summary>
    /// Parses model bytes. <paramref name="path"/> is used for messages only; external data is resolved against
    /// <paramref name="baseDirectory"/> and refused when there is none.
    /// </summary>
    public static Model Load(ReadOnlySpan<byte> bytes, string? path = null, string? baseDirectory = null, ResourceBudget? budget = null)
    {
        budget ??= ResourceBudget.Default;
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelException(ErrorCodes.MalformedModel, $"Not a valid ONNX model: {e.Message}", path);
        }

        // Counted on the protobuf, before the IR is built: a 100k-node graph costs its parse and nothing more.
        if (proto.Graph is { } g && g.Node.Count > budget.MaxNodes)
            throw new ModelException(ErrorCodes.BudgetExceeded, ResourceBudget.Exceeded($"The graph has {g.Node.Count} nodes, over the budget of {budget.MaxNodes}", "MaxNodes", "--max-nodes").Message, path);
        try
        {
            return new OnnxGraphReader(proto, baseDirectory).Read(path);
        }
        catch (ModelException e)
        {
            throw e.WithContext(path);
        }
    }
}
