using System.CommandLine;
using QuantGen.Core;
using QuantGen.Core.Artifact;

namespace QuantGen.Cli;

/// <summary>Entry point of the quantgen tool. <see cref="Run"/> is what tests call in-process.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("QuantGen: compile ONNX models into dependency-free, quantized C#.")
        {
            InspectCommand.Create(output),
            RunCommand.Create(output),
            QuantizeCommand.Create(output),
            EmitCommand.Create(output, error),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (ModelException e)
        {
            // One MSBuild-style line per problem: the build task parses these. A bad option value (a budget, a width)
            // is known before any model is read: the line names the .onnx the command was given, so MSBuild shows the item.
            error.WriteLine((e.ModelPath is null && ModelArgument(args) is var model && model != "quantgen" ? e.WithContext(model) : e).ToString());
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{SafeText.DiagnosticLine(args.FirstOrDefault(a => !a.StartsWith('-')) ?? "quantgen")}: error {ErrorCodes.FileNotFound}: {SafeText.DiagnosticLine(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            error.WriteLine($"{SafeText.DiagnosticLine(ModelArgument(args))}: error {ErrorCodes.InternalError}: internal error ({e.GetType().Name}: {SafeText.DiagnosticLine(e.Message)}). Please report it with the model.");
            return 1;
        }
    }

    private static string ModelArgument(string[] args) =>
        args.Skip(1).FirstOrDefault(a => a.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) ?? "quantgen";
}
