using Comety.Chat.Chat;
using Comety.Chat.Chat.PostgreSql;
using Comety.Chat.Controllers;
using Comety.PostgreSql;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Caching.Distributed;

namespace Comety.Chat;

/// <summary>
/// Builds the chat application; the tests start it the same way. Without a connection string it
/// keeps everything in memory, on one server. With <c>ConnectionStrings:Comety</c> (eng/cluster.sh
/// sets it) it is one server of a cluster: Comety's log, the rooms, the sessions and the
/// data-protection keys are in that PostgreSQL database, so any server answers any request.
/// </summary>
public static class ChatApplication
{
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var clustered = !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(PostgreSqlEventLogOptions.ConnectionStringName));
        if (clustered)
        {
            // First of the hosted services: the tables exist before data protection reads its key ring.
            builder.Services.AddHostedService<ClusterStart>();
        }

        builder.Services.AddControllersWithViews(options =>
            options.Filters.Add(new Microsoft.AspNetCore.Mvc.AutoValidateAntiforgeryTokenAttribute()));
        if (clustered)
        {
            builder.Services.AddCometyPostgreSql();
            builder.Services.AddSingleton<IDistributedCache>(static provider => new PostgreSqlDistributedCache(
                provider.GetRequiredService<PostgreSqlEventLog>().DataSource, TimeProvider.System));
            builder.Services.AddDataProtection().SetApplicationName("Comety.Chat");
            builder.Services.AddOptions<KeyManagementOptions>().Configure<PostgreSqlEventLog>(static (options, log) =>
                options.XmlRepository = new PostgreSqlXmlRepository(log.DataSource));
            builder.Services.AddSingleton<IChat, PostgreSqlChat>();
        }
        else
        {
            builder.Services.AddDistributedMemoryCache();
            builder.Services.AddSingleton<RoomStore>();
            builder.Services.AddSingleton<IChat, ChatService>();
        }

        builder.Services.AddSession(options =>
        {
            options.Cookie.Name = "comety-chat";
            options.Cookie.HttpOnly = true;
            options.Cookie.IsEssential = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });
        builder.Services.AddComety();
        builder.Services.AddHostedService<ChatLifecycle>();

        var app = builder.Build();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error");
        }

        app.UseStaticFiles();
        app.UseRouting();
        app.UseSession();
        app.MapControllers();
        app.MapComety<ChatUpdatesController>("chat/updates");
        if (clustered)
        {
            // What the cluster's load balancer probes: an instance gets traffic once its dispatcher has
            // loaded the shared log and while it reaches the database.
            app.MapGet("/health", static (CometyDispatcher dispatcher) => dispatcher.IsReady ? Results.Text("ok") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        }

        return app;
    }
}
