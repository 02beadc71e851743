using Microsoft.Extensions.Options;

namespace Comety.Internal;

/// <summary>Checks <see cref="CometyOptions"/> at start-up, naming each setting that is out of range.</summary>
internal sealed class CometyOptionsValidator : IValidateOptions<CometyOptions>
{
    public ValidateOptionsResult Validate(string? name, CometyOptions options)
    {
        var failures = new List<string>();
        if (options.MaxClientTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Comety:{nameof(CometyOptions.MaxClientTimeout)} must be positive; it is {options.MaxClientTimeout}.");
        }

        if (options.ClientTimeout <= TimeSpan.Zero || options.ClientTimeout > options.MaxClientTimeout)
        {
            failures.Add($"Comety:{nameof(CometyOptions.ClientTimeout)} must be positive and at most {nameof(CometyOptions.MaxClientTimeout)} ({options.MaxClientTimeout}); it is {options.ClientTimeout}.");
        }

        if (!double.IsFinite(options.ResponseTimeoutFactor) || options.ResponseTimeoutFactor <= 0 || options.ResponseTimeoutFactor > 1)
        {
            failures.Add($"Comety:{nameof(CometyOptions.ResponseTimeoutFactor)} must be greater than 0 and at most 1; it is {options.ResponseTimeoutFactor}.");
        }

        if (options.StreamDuration <= TimeSpan.Zero || options.StreamDuration > TimeSpan.FromDays(1))
        {
            failures.Add($"Comety:{nameof(CometyOptions.StreamDuration)} must be positive and at most a day; it is {options.StreamDuration}.");
        }

        if (options.StreamKeepAliveInterval < TimeSpan.FromSeconds(1) || options.StreamKeepAliveInterval > options.StreamDuration)
        {
            failures.Add($"Comety:{nameof(CometyOptions.StreamKeepAliveInterval)} must be at least 1 second and at most {nameof(CometyOptions.StreamDuration)} ({options.StreamDuration}); it is {options.StreamKeepAliveInterval}.");
        }

        if (options.MaxMessageBytes < 1)
        {
            failures.Add($"Comety:{nameof(CometyOptions.MaxMessageBytes)} must be positive; it is {options.MaxMessageBytes}.");
        }

        if (options.MaxClientChannelsPerUser < 1)
        {
            failures.Add($"Comety:{nameof(CometyOptions.MaxClientChannelsPerUser)} must be at least 1; it is {options.MaxClientChannelsPerUser}.");
        }

        for (var i = 0; i < options.ClientChannels.Count; i++)
        {
            if (ClientChannelPatterns.Check(options.ClientChannels[i]) is { } invalid)
            {
                failures.Add($"Comety:{nameof(CometyOptions.ClientChannels)}:{i} '{options.ClientChannels[i]}' is not a channel pattern: {invalid}");
            }
        }

        // The dispatcher's own rules, stated once in Comety.Core.
        foreach (var (setting, problem) in options.ToDispatcherOptions().FindProblems())
        {
            failures.Add($"Comety:{setting}: {problem}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
