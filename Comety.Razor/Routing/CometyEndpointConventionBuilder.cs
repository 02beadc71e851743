namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Adds conventions to the endpoints <see cref="CometyEndpointRouteBuilderExtensions.MapComety{TController}"/>
/// maps, the poll (<c>GET</c>) and the send (<c>POST</c>) of one updates URL: for example
/// <c>.RequireAuthorization()</c>, <c>.RequireCors(…)</c> or <c>.AddEndpointFilter(…)</c>.
/// </summary>
public sealed class CometyEndpointConventionBuilder : IEndpointConventionBuilder
{
    private readonly IEndpointConventionBuilder _poll;
    private readonly IEndpointConventionBuilder _send;

    internal CometyEndpointConventionBuilder(IEndpointConventionBuilder poll, IEndpointConventionBuilder send)
    {
        _poll = poll;
        _send = send;
    }

    /// <summary>Adds a convention that applies to both endpoints of the updates URL.</summary>
    /// <param name="convention">The convention.</param>
    public void Add(Action<EndpointBuilder> convention)
    {
        _poll.Add(convention);
        _send.Add(convention);
    }

    /// <summary>Adds a convention that applies to both endpoints after every other convention.</summary>
    /// <param name="finallyConvention">The convention.</param>
    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        _poll.Finally(finallyConvention);
        _send.Finally(finallyConvention);
    }
}
