using Google.Protobuf;
using QuantGen.Core.Artifact;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;

namespace QuantGen.Tests.Security;

/// <summary>
/// Hostile ONNX files through the whole front end in-process (the CLI's quantize, as the build task runs it), then
/// the generator: names carrying injection payloads build a harmless class; a graph without operators, a string
/// input and a failing node whose name holds line breaks are QG errors on exactly one stderr line each.
/// </summary>
public sealed class HostileModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The names a hostile model gives its graph, input, Gemm node, hidden tensor, Relu node and output.</summary>
    public sealed record Names(string Graph, string Input, string Gemm, string Hidden, string Relu, string Output);

    /// <summary>The payloads: a ModuleInitializer class after LF, a class after U+2028, #error after CR LF, a string break, bidi.</summary>
    public static readonly Names Hostile = new(
        Graph: "g\u202Eevil\u202C\u0085public class PwnedGraph { }",
        Input: "x\" + new PwnedInput() + \"",
        Gemm: "relu\n} } namespace Pwn { public static class Pwned { [System.Runtime.CompilerServices.ModuleInitializer] public static void Init() => System.Console.WriteLine(\"PWNED\"); } }\n//",
        Hidden: "h\u2028public class PwnedTensor { }\u2028//",
        Relu: "r\r\n#error injected\r\n",
        Output: "y\u2029} public class PwnedOutput { } /*");

    /// <summary>x [1,4] → Gemm (W [3,4], transB, bias) → Relu → y [1,3]: the Relu fuses into the FullyConnected layer.</summary>
    internal static byte[] GemmRelu(Names n, Action<ModelProto>? edit = null)
    {
        var w = ModelBuilder.FloatTensor("w", [3, 4], [0.5f, -0.25f, 0.75f, 0.1f, -0.5f, 0.3f, 0.2f, -0.1f, 0.05f, 0.6f, -0.7f, 0.4f]);
        var b = ModelBuilder.FloatTensor("b", [3], [0.1f, -0.2f, 0.05f]);
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "quantgen-tests",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } },
            Graph = new GraphProto
            {
                Name = n.Graph,
                Input = { ModelBuilder.Value(n.Input, 1, 4) },
                Output = { ModelBuilder.Value(n.Output, 1, 3) },
                Initializer = { w, b },
                Node =
                {
                    new NodeProto
                    {
                        Name = n.Gemm, OpType = "Gemm", Input = { n.Input, "w", "b" }, Output = { n.Hidden },
                        Attribute = { new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
                    },
                    new NodeProto { Name = n.Relu, OpType = "Relu", Input = { n.Hidden }, Output = { n.Output } },
                },
            },
        };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (int Code, string Out, string Err) Quantize(string model, string artifact) =>
        Cli.CliProcess.Quantgen("quantize", model, "--output", artifact, "--input-range", "0,1");

    [Fact]
    public void HostileNamesQuantizeAndGenerateAHarmlessClass()
    {
        var model = Write("hostile.onnx", GemmRelu(Hostile));
        var artifactPath = Path.Combine(_dir, "hostile.qgart");
        var (code, stdout, stderr) = Quantize(model, artifactPath);
        Assert.True(code == 0, stderr);
        // One progress line per weighted layer and one summary line, nothing else: the names cannot add lines to the CLI's output.
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("quantgen progress: layer 1/1 ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("quantgen: ", lines[1], StringComparison.Ordinal);

        var text = File.ReadAllText(artifactPath);
        var artifact = ArtifactText.Read(text);
        Assert.Contains(artifact.Layers, l => l.Comment.Contains(Hostile.Gemm, StringComparison.Ordinal));
        var clean = HostileNames.Generate(CleanArtifact(), HostileNames.Probe("Tiny"), TinyClass);
        var result = HostileNames.Generate(text, HostileNames.Probe("Tiny"), TinyClass);
        HostileNames.AssertHarmless(result);
        Assert.Equal(clean.TypeNames(), result.TypeNames());
        Assert.StartsWith(Hostile.Input + " needs 4 values", HostileNames.RunWithWrongInput(result, "Tiny"), StringComparison.Ordinal);
    }

    private static readonly Dictionary<string, string> TinyClass = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "Tiny" };

    private string CleanArtifact()
    {
        var path = Path.Combine(_dir, "clean.qgart");
        Assert.Equal(0, Quantize(Write("clean.onnx", GemmRelu(new Names("g", "x", "fc", "h", "relu", "y"))), path).Code);
        return File.ReadAllText(path);
    }

    /// <summary>The CLI's stderr: exactly one diagnostic line, of this code.</summary>
    private static string OneErrorLine(string stderr, string code)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains($": error {code}: ", line);
        Assert.DoesNotContain('\r', line);
        Assert.DoesNotContain('\u2028', line);
        Assert.DoesNotContain('\u202E', line);
        return line;
    }

    [Fact]
    public void AGraphWithoutOperatorsIsQG0030()
    {
        // Output = input, no node: Run(input, output) would name one tensor twice (CS0100).
        var model = Write("empty.onnx", ModelBuilder.Relu(m =>
        {
            m.Graph.Node.Clear();
            m.Graph.Output.Clear();
            m.Graph.Output.Add(ModelBuilder.Value("x", 1, 4));
        }));
        var (code, _, stderr) = Quantize(model, Path.Combine(_dir, "empty.qgart"));
        Assert.Equal(1, code);
        Assert.Contains("no operators", OneErrorLine(stderr, "QG0030"));
    }

    [Fact]
    public void AStringInputIsQG0009()
    {
        var model = Write("string.onnx", ModelBuilder.Relu(m => m.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.String));
        var (code, _, stderr) = Quantize(model, Path.Combine(_dir, "string.qgart"));
        Assert.Equal(1, code);
        Assert.Contains("Graph input 'x' is of type ONNX type 8 (string)", OneErrorLine(stderr, "QG0009"));
    }

    [Fact]
    public void AFailingNodesNameCannotForgeADiagnosticLine()
    {
        // An unsupported op whose node name starts a new, forged MSBuild error line (LF, CR LF, U+2028, U+0085).
        var forged = "n\nSecrets.cs : error QG0001: forged\r\nA.cs : error QG0001: a\u2028B.cs : error QG0001: b\u0085C.cs : error QG0001: c\u202E";
        var model = Write("forged.onnx", ModelBuilder.Relu(m =>
        {
            m.Graph.Node[0].OpType = "NoSuchOp";
            m.Graph.Node[0].Name = forged;
        }));
        var (code, _, stderr) = Quantize(model, Path.Combine(_dir, "forged.qgart"));
        Assert.Equal(1, code);
        var line = OneErrorLine(stderr, "QG0003");
        Assert.StartsWith(model + ": error QG0003: ", line, StringComparison.Ordinal);
        Assert.Contains("n\\u000ASecrets.cs : error QG0001: forged\\u000D\\u000AA.cs", line);
    }
}
