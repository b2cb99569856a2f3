namespace QuantGen.Tests.Cli;

/// <summary>The quantgen command run in-process, its output and error streams captured.</summary>
internal static class CliProcess
{
    public static (int Code, string Out, string Err) Quantgen(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = QuantGen.Cli.Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
