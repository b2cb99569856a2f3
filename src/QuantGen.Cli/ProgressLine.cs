namespace QuantGen.Cli;

/// <summary>
/// Where the quantizer's progress goes. In a terminal: one status line on stderr, rewritten in place with '\r' and cleared
/// at the end. Redirected (the build task reads the output, or a log file): one "quantgen progress: " line per step on
/// the output, which the task logs at normal verbosity, so a build of minutes shows it is not hung.
/// </summary>
internal sealed class ProgressLine
{
    public const string Prefix = "quantgen progress: ";

    private readonly TextWriter _output;
    private readonly bool _inPlace;
    private int _width;

    public ProgressLine(TextWriter output)
    {
        _output = output;
        _inPlace = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
    }

    public void Report(string line)
    {
        if (!_inPlace)
        {
            _output.WriteLine(Prefix + line);
            return;
        }
        var text = line.Length > 119 ? line[..119] : line;
        Console.Error.Write("\r" + text.PadRight(_width));
        _width = text.Length;
    }

    /// <summary>Clears the status line, so the summary that follows starts on a clean line.</summary>
    public void Finish()
    {
        if (_inPlace && _width > 0) Console.Error.Write("\r" + new string(' ', _width) + "\r");
        _width = 0;
    }
}
