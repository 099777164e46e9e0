package io.edgestreaming.config;

import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Template;
import java.io.Serializable;
import java.util.List;

/**
 * One customer stream, in the shape of Azion's v3 Data Streaming API.
 *
 * @param id unique within the configuration
 * @param name display name
 * @param client the customer id that events carry in {@code $client}
 * @param dataSource http or waf
 * @param template the resolved template (an Azion template by id, or the custom data set)
 * @param domains host names, lower-cased; {@code *.example.com} wildcards allowed; empty with allDomains
 * @param allDomains every current and future domain of the client
 * @param samplingPercentage share of events kept, 0 to 100 (100 when not sampling)
 * @param active inactive streams receive nothing
 * @param endpoint where blocks go
 * @param batching when blocks are cut
 */
public record StreamConfig(
        long id,
        String name,
        String client,
        DataSource dataSource,
        Template template,
        List<String> domains,
        boolean allDomains,
        double samplingPercentage,
        boolean active,
        Endpoint endpoint,
        BatchingConfig batching)
        implements Serializable {}
