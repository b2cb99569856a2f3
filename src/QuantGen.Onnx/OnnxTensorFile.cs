using Google.Protobuf;
using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>Reads a serialized ONNX TensorProto (.pb), the format of the ONNX test suite's inputs and outputs.</summary>
public static class OnnxTensorFile
{
    /// <summary>The tensor and the name stored with it ("" when none).</summary>
    public static (string Name, Tensor Tensor) Read(string path)
    {
        if (!File.Exists(path))
            throw new ModelException(ErrorCodes.FileNotFound, $"Tensor file '{path}' does not exist.", path);
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelException(ErrorCodes.BadTensorFile, $"Not a valid TensorProto: {e.Message}", path);
        }
        try
        {
            return (proto.Name, TensorReader.Read(proto, Path.GetDirectoryName(Path.GetFullPath(path))));
        }
        catch (ModelException e)
        {
            throw e.WithContext(path);
        }
    }
}
