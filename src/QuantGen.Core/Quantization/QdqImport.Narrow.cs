using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The opset-21 quantized types in QDQ import: int4/uint4 (held as int8/uint8, <see cref="Tensor.StoredBits"/> 4) and
/// int16 (held as int32, StoredBits 16). int4/uint4 weights are int8 values; int4/uint4 activations are u8 grids whose
/// clamp is the 4-bit type's range; int16 activations are QuantGen's 16-bit activations when every activation of the
/// model is int16 with zero point 0.
/// </summary>
internal static partial class QdqImport
{
    /// <summary>Width of the ONNX type a tensor was read from: its <see cref="Tensor.StoredBits"/>, else its IR type's.</summary>
    private static int BitsOf(Tensor tensor) => tensor.StoredBits != 0 ? tensor.StoredBits : tensor.DataType == DataType.Int32 ? 32 : 8;

    private static (long Lo, long Hi) Range(DataType type, int bits) => (type, bits) switch
    {
        (DataType.UInt8, 4) => (0, 15),
        (DataType.Int8, 4) => (-8, 7),
        (DataType.UInt8, _) => (0, 255),
        (DataType.Int8, _) => (-128, 127),
        (_, 16) => (short.MinValue, short.MaxValue),
        _ => (int.MinValue, int.MaxValue),
    };

    private static string TypeName(DataType type, int bits) => (type, bits) switch
    {
        (DataType.UInt8, 4) => "uint4",
        (DataType.Int8, 4) => "int4",
        (DataType.Int32, 16) => "int16",
        _ => (int)type switch
        {
            4 => "uint16",
            5 => "int16",
            10 => "float16",
            16 => "bfloat16",
            17 => "float8e4m3fn",
            18 => "float8e4m3fnuz",
            19 => "float8e5m2",
            20 => "float8e5m2fnuz",
            21 => "uint4",
            22 => "int4",
            23 => "float4e2m1",
            _ => DataTypes.Name(type),
        },
    };

    /// <summary>
    /// QDQ import of int16 activations: QuantGen's 16-bit mode (ActivationBits=16) when every imported activation grid
    /// is int16, 8-bit otherwise; a model mixing int16 with 8-bit or 4-bit activations is QG0081 naming a node of each.
    /// </summary>
    public static QuantizationOptions ActivationMode(FixedQuantization imported, QuantizationOptions options, string? modelPath)
    {
        var wide = imported.Grids.Values.Where(g => g.Grid.ElementType == ArtifactElementType.I16).ToList();
        if (wide.Count == 0) return options;
        var narrow = imported.Grids.Values.FirstOrDefault(g => g.Grid.ElementType != ArtifactElementType.I16);
        if (narrow.Source is not null)
            throw new ModelException(ErrorCodes.QdqNotExpressible,
                $"QuantizeLinear '{wide[0].Source}' quantizes to int16 and '{narrow.Source}' to an 8-bit or 4-bit type: QuantGen's activations are all 8-bit or all 16-bit, so an int16 model must quantize every activation to int16.",
                modelPath, wide[0].Source);
        return options with { ActivationBits = 16 };
    }

    private sealed partial class Importer
    {
        /// <summary>
        /// The grid of an activation pair: uint8 as it is and int8 shifted by 128 (the same real values and saturation
        /// points); uint4 and int4 the same with the 4-bit range as the clamp ([0, 15], or [120, 135] for int4 + 128);
        /// int16 the 16-bit grid, zero point 0 required, on the full int16 range ONNX saturates to.
        /// </summary>
        private ActivationGrid ActivationGridOf(Node q, Parameters p, string value)
        {
            int z = (int)p.ZeroPoints[0];
            switch (p.Bits)
            {
                case 8: return new ActivationGrid(p.Scales[0], z + (p.Type == DataType.Int8 ? 128 : 0), 0, 255);
                case 4: return p.Type == DataType.Int8 ? new ActivationGrid(p.Scales[0], z + 128, 120, 135) : new ActivationGrid(p.Scales[0], z, 0, 15);
                case 16:
                    if (z != 0)
                        throw Error(ErrorCodes.QdqNotExpressible, $"QuantizeLinear '{q.Name}' quantizes the activation '{value}' to int16 with zero point {z}: QuantGen's 16-bit activations are symmetric (zero point 0).", q.Name);
                    return new ActivationGrid(p.Scales[0], 0, short.MinValue, short.MaxValue);
                default:
                    throw Error(ErrorCodes.QdqNotExpressible, $"QuantizeLinear '{q.Name}' quantizes the activation '{value}' to {p.TypeName}: QuantGen's activations are 8-bit (or 16-bit).", q.Name);
            }
        }
    }
}
